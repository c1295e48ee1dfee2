import { ArnFormat, CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import type { FunctionName } from '../lambdas/routes.js';
import { AuthLogMetricFilters } from './auth-log-metric-filters.js';
import { metricNamespace } from './auth-log-metrics.js';
import type { DeploymentConfig } from './deployment-config.js';
import { DrainDashboard } from './drain-dashboard.js';
import { ExportBucket } from './export-bucket.js';
import { healthWidgets } from './health-widgets.js';
import { ImportJobs } from './import-jobs.js';
import { grantManagementSecrets, grantTokenSecrets } from './secret-access.js';
import { ServiceAlarms } from './service-alarms.js';
import { ServiceFunctions } from './service-functions.js';
import { ServiceHttpApi } from './service-http-api.js';
import { ServiceTable } from './service-table.js';

export interface ServiceStackProps extends StackProps {
  readonly config: DeploymentConfig;
}

/** The whole service: HTTP API, two Lambdas, one table, secrets access, metrics, alarms, dashboard. */
export class ServiceStack extends Stack {
  readonly serviceTable: ServiceTable;
  readonly serviceFunctions: ServiceFunctions;
  readonly httpApi: ServiceHttpApi;
  readonly alarms: ServiceAlarms;
  readonly drainDashboard: DrainDashboard;
  /** Users-export files (written by the job worker, presigned by the management function). */
  readonly exportBucket: ExportBucket;
  /** Bulk-import and users-export jobs: the queue, its dead-letter queue and the worker. */
  readonly importJobs: ImportJobs;
  /** Whether the functions are traced by X-Ray (the `tracing` setting). */
  readonly tracingEnabled: boolean;
  /** Where this stack's own metrics live (`Auth0Migration/<stackName>`). */
  readonly metricNamespace: string;

  constructor(scope: Construct, id: string, props: ServiceStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.tracingEnabled = config.tracing;

    this.serviceTable = new ServiceTable(this, 'Data');
    const table = this.serviceTable.table;
    this.serviceFunctions = new ServiceFunctions(this, 'Functions', { config, tableName: table.tableName });
    const { token, management } = this.serviceFunctions.functions;
    this.serviceTable.grantHandlerAccess(token.fn);
    this.serviceTable.grantHandlerAccess(management.fn);
    grantTokenSecrets(this, token.fn);
    grantManagementSecrets(this, management.fn);
    if (config.postLoginFunctionName) grantPostLoginInvoke(this, token.fn, config.postLoginFunctionName);
    this.importJobs = new ImportJobs(this, 'ImportJobs', {
      config,
      table,
      producer: management.fn,
      grantTable: (worker) => this.serviceTable.grantHandlerAccess(worker),
    });
    this.exportBucket = new ExportBucket(this, 'Exports', { managementFunction: management.fn, worker: this.importJobs.worker });

    const functions: Record<FunctionName, typeof token.fn> = { token: token.fn, management: management.fn };
    this.httpApi = new ServiceHttpApi(this, 'Http', { config, functions });

    this.metricNamespace = metricNamespace(this.stackName);
    new AuthLogMetricFilters(this, 'AuthLogMetrics', {
      logGroups: { token: token.logGroup, management: management.logGroup },
      namespace: this.metricNamespace,
    });
    this.alarms = new ServiceAlarms(this, 'Alarms', {
      config,
      namespace: this.metricNamespace,
      api: this.httpApi.api,
      accessLogs: this.httpApi.accessLogs,
      table,
      functions,
    });
    this.drainDashboard = new DrainDashboard(this, 'Drain', {
      namePrefix: this.stackName,
      namespace: this.metricNamespace,
      logGroups: [token.logGroup, management.logGroup],
      switchOffAlarm: this.alarms.safeToSwitchOff,
      alarms: this.alarms.alarms,
      healthWidgets: healthWidgets({ functions, api: this.httpApi.api, table }),
    });

    new CfnOutput(this, 'ApiUrl', {
      value: config.domainName ? `https://${config.domainName}/` : this.httpApi.stage.url,
      description: config.domainName
        ? 'The issuer: the custom domain (the execute-api endpoint is disabled)'
        : 'execute-api URL of the $default stage (the issuer until a custom domain is set)',
    });
    new CfnOutput(this, 'TableName', { value: table.tableName });
    if (this.httpApi.domainName) {
      new CfnOutput(this, 'CustomDomainTarget', {
        value: this.httpApi.domainName.regionalDomainName,
        description: `CNAME (or alias) target for ${config.domainName}`,
      });
    }
    new CfnOutput(this, 'DrainDashboardName', { value: this.drainDashboard.dashboard.dashboardName });
    if (this.alarms.topic) new CfnOutput(this, 'AlarmTopicArn', { value: this.alarms.topic.topicArn });
  }
}

/** The token function may invoke the operator's post-login function (custom claims), and only it. */
function grantPostLoginInvoke(scope: Construct, fn: IFunction, functionName: string): void {
  const arn = functionName.startsWith('arn:')
    ? functionName
    : Stack.of(scope).formatArn({ service: 'lambda', resource: 'function', resourceName: functionName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
  fn.addToRolePolicy(new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [arn] }));
}
