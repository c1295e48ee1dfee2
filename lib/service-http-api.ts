import { RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { DomainName, HttpApi, HttpMethod, HttpStage, LogGroupLogDestination, type HttpRoute } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { routes, type FunctionName, type RouteDefinition } from '../lambdas/routes.js';
import type { DeploymentConfig } from './deployment-config.js';
import { retentionDays } from './service-functions.js';

export interface ServiceHttpApiProps {
  readonly config: DeploymentConfig;
  readonly functions: Record<FunctionName, IFunction>;
  /** Defaults to the shared route table; a parameter so tests can wire a table of their own. */
  readonly routeTable?: readonly RouteDefinition[];
}

/**
 * One access-log line per request, JSON so it can be queried like the handler logs.
 * No headers, query strings or bodies: they may carry credentials.
 */
export const accessLogFields = {
  requestId: '$context.requestId',
  requestTime: '$context.requestTime',
  routeKey: '$context.routeKey',
  httpMethod: '$context.httpMethod',
  path: '$context.path',
  status: '$context.status',
  protocol: '$context.protocol',
  sourceIp: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationStatus: '$context.integrationStatus',
  integrationLatency: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
  domainName: '$context.domainName',
} as const;

/** The HTTP API: every route of the route table, `$default` stage with access logs and throttling. */
export class ServiceHttpApi extends Construct {
  readonly api: HttpApi;
  readonly stage: HttpStage;
  readonly accessLogs: LogGroup;
  readonly domainName?: DomainName;
  /** Each API Gateway route with the route-table entry it was made from. */
  readonly wiredRoutes: Array<{ readonly definition: RouteDefinition; readonly route: HttpRoute }> = [];

  constructor(scope: Construct, id: string, props: ServiceHttpApiProps) {
    super(scope, id);
    const { config } = props;
    this.api = new HttpApi(this, 'Api', {
      description: 'Auth0-compatible token service and Management API',
      createDefaultStage: false,
      // With a custom domain it is the only way in: the execute-api name would be a second issuer.
      disableExecuteApiEndpoint: Boolean(config.domainName),
    });
    this.accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: retentionDays(config.logRetentionDays),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    if (config.domainName && config.certificateArn) {
      this.domainName = new DomainName(this, 'CustomDomain', {
        domainName: config.domainName,
        certificate: Certificate.fromCertificateArn(this, 'Certificate', config.certificateArn),
      });
    }
    this.stage = this.api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: config.throttleRateLimit, burstLimit: config.throttleBurstLimit },
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(accessLogFields)),
      },
      ...(this.domainName ? { domainMapping: { domainName: this.domainName } } : {}),
    });

    const integrations = new Map<FunctionName, HttpLambdaIntegration>();
    const integrationOf = (fn: FunctionName) => {
      let integration = integrations.get(fn);
      if (!integration) {
        integration = new HttpLambdaIntegration(`${fn}-integration`, props.functions[fn]);
        integrations.set(fn, integration);
      }
      return integration;
    };
    for (const route of props.routeTable ?? routes) {
      const [created] = this.api.addRoutes({
        path: route.path,
        methods: [HttpMethod[route.method]],
        integration: integrationOf(route.fn),
      });
      this.wiredRoutes.push({ definition: route, route: created });
    }
  }
}
