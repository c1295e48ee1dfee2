import { Duration, Stack } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  MathExpression,
  Metric,
  Stats,
  TreatMissingData,
  Unit,
  type IMetric,
} from 'aws-cdk-lib/aws-cloudwatch';
import { FilterPattern, MetricFilter, type ILogGroup } from 'aws-cdk-lib/aws-logs';
import { tableSchema } from '../lambdas/store/table.js';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import type { TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Effect, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { FunctionName } from '../lambdas/routes.js';
import { authLogMetric } from './auth-log-metric-filters.js';
import type { DeploymentConfig } from './deployment-config.js';

export interface ServiceAlarmsProps {
  readonly config: DeploymentConfig;
  /** The stack's metric namespace. */
  readonly namespace: string;
  readonly api: HttpApi;
  readonly table: TableV2;
  /** The API's access log group (its `status` separates designed 503s from real 5xx). */
  readonly accessLogs: ILogGroup;
  readonly functions: Record<FunctionName, IFunction>;
}

const FIVE_MINUTES = Duration.minutes(5);
const GSI_NAME = tableSchema.globalSecondaryIndexes[0].indexName;
export const API_SERVER_ERRORS_METRIC = 'ApiServerErrors';
/** Access-log lines (see accessLogFields) of 5xx answers other than the retryable 503. */
export const API_SERVER_ERROR_PATTERN = '{ $.status = "5*" && $.status != "503" }';

/** Alarms on the signals that need a human during the migration; an SNS topic when `alarmEmail` is set. */
export class ServiceAlarms extends Construct {
  readonly alarms: Alarm[] = [];
  readonly topic?: Topic;
  /** ALARM = no successful upstream verification for `switchOffQuietDays` days: the upstream may go. */
  readonly safeToSwitchOff: Alarm;

  constructor(scope: Construct, id: string, props: ServiceAlarmsProps) {
    super(scope, id);
    const { config } = props;
    if (config.alarmEmail) {
      this.topic = new Topic(this, 'AlarmTopic', { displayName: 'Auth0 migration alarms', enforceSSL: true });
      // enforceSSL gives the topic a policy holding only its Deny, which replaces SNS's default
      // policy: without this Allow, CloudWatch could not publish and no alarm would reach anyone.
      this.topic.addToResourcePolicy(
        new PolicyStatement({
          sid: 'AllowCloudWatchAlarmsOfThisAccount',
          effect: Effect.ALLOW,
          principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
          actions: ['sns:Publish'],
          resources: [this.topic.topicArn],
          conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
        }),
      );
      this.topic.addSubscription(new EmailSubscription(config.alarmEmail));
    }

    const ns = props.namespace;
    this.safeToSwitchOff = new Alarm(this, 'SafeToSwitchOffUpstream', {
      metric: authLogMetric(ns, 'upstreamVerifications', { period: Duration.days(1) }),
      threshold: 1,
      evaluationPeriods: config.switchOffQuietDays,
      comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
      // No line at all is no verification either: silence counts toward "safe".
      treatMissingData: TreatMissingData.BREACHING,
      alarmDescription:
        `Safe to switch off the upstream Auth0: no successful upstream verification (password fallback or ` +
        `refresh re-mint) for ${config.switchOffQuietDays} days. Confirm with GET /api/v2/stats/migration that ` +
        'days_since_last_upstream_verification exceeds the refresh-token lifetime.',
    });
    if (this.topic) {
      this.safeToSwitchOff.addAlarmAction(new SnsAction(this.topic));
      this.safeToSwitchOff.addOkAction(new SnsAction(this.topic));
    }

    const failedRefreshRate = new MathExpression({
      expression: `IF(failed >= ${config.failedRefreshAlarmThreshold}, 100 * failed / all, 0)`,
      usingMetrics: {
        failed: authLogMetric(ns, 'failedRefreshExchanges', { period: FIVE_MINUTES }),
        all: authLogMetric(ns, 'refreshExchanges', { period: FIVE_MINUTES }),
      },
      label: 'Failed refresh exchanges (%)',
      period: FIVE_MINUTES,
    });
    this.add('FailedRefreshRate', failedRefreshRate, {
      threshold: config.failedRefreshRatePercent,
      evaluationPeriods: 1,
      description:
        `Over ${config.failedRefreshRatePercent}% of refresh exchanges failed (fertft) in 5 minutes, ` +
        `with at least ${config.failedRefreshAlarmThreshold} failures`,
    });

    const upstreamErrorRate = new MathExpression({
      expression: 'IF(calls >= 10, 100 * errors / calls, 0)',
      usingMetrics: {
        calls: authLogMetric(ns, 'upstreamCalls', { period: FIVE_MINUTES }),
        errors: authLogMetric(ns, 'upstreamCallErrors', { period: FIVE_MINUTES }),
      },
      label: 'Upstream error rate (%)',
      period: FIVE_MINUTES,
    });
    this.add('UpstreamErrorRate', upstreamErrorRate, {
      threshold: config.upstreamErrorRatePercent,
      evaluationPeriods: 2,
      description: `Over ${config.upstreamErrorRatePercent}% of upstream calls rate limited or unavailable, twice in a row`,
    });

    this.add('StoreOverloads', authLogMetric(ns, 'storeOverloads', { period: FIVE_MINUTES }), {
      threshold: 5,
      evaluationPeriods: 1,
      description: 'At least 5 requests in 5 minutes answered 503 because DynamoDB throttled, failed or did not answer in time (the API 5xx alarm leaves these designed 503s out)',
    });
    this.add('Lockouts', authLogMetric(ns, 'lockouts', { period: FIVE_MINUTES }), {
      threshold: config.lockoutAlarmThreshold,
      evaluationPeriods: 1,
      description: `At least ${config.lockoutAlarmThreshold} identifiers locked out (limit_wc) in 5 minutes: credential stuffing or a broken client`,
    });

    for (const [name, fn] of Object.entries(props.functions)) {
      this.add(`${name}FunctionErrors`, fn.metricErrors({ period: FIVE_MINUTES }), {
        threshold: 1,
        evaluationPeriods: 1,
        description: `The ${name} function failed (crash or timeout, not an OAuth error)`,
      });
      this.add(`${name}FunctionThrottles`, fn.metricThrottles({ period: FIVE_MINUTES }), {
        threshold: 1,
        evaluationPeriods: 1,
        description: `The ${name} function was throttled (reserved or account concurrency)`,
      });
    }

    // API Gateway's 5xx metric also counts the designed, retryable 503 temporarily_unavailable
    // answers; the access log tells them apart.
    new MetricFilter(this, 'ApiServerErrorsFilter', {
      logGroup: props.accessLogs,
      filterPattern: FilterPattern.literal(API_SERVER_ERROR_PATTERN),
      metricNamespace: ns,
      metricName: API_SERVER_ERRORS_METRIC,
      metricValue: '1',
      defaultValue: 0,
      unit: Unit.COUNT,
    });
    this.add('ApiServerErrors', new Metric({ namespace: ns, metricName: API_SERVER_ERRORS_METRIC, statistic: Stats.SUM, period: FIVE_MINUTES }), {
      threshold: 5,
      evaluationPeriods: 1,
      description: 'The HTTP API answered 5xx other than the retryable 503 at least 5 times in 5 minutes',
    });

    const clientErrorRate = new MathExpression({
      expression: 'IF(requests >= 100, 100 * clientErrors / requests, 0)',
      usingMetrics: {
        requests: props.api.metricCount({ period: FIVE_MINUTES }),
        clientErrors: props.api.metricClientError({ period: FIVE_MINUTES }),
      },
      label: 'API 4xx rate (%)',
      period: FIVE_MINUTES,
    });
    this.add('Api4xxRate', clientErrorRate, {
      threshold: config.api4xxRatePercent,
      evaluationPeriods: 2,
      description: `Over ${config.api4xxRatePercent}% of at least 100 requests answered 4xx, twice in a row (wrong passwords en masse, a broken client)`,
    });

    this.add('ApiLatencyP99', props.api.metricLatency({ period: FIVE_MINUTES, statistic: 'p99' }), {
      threshold: config.latencyAlarmMs,
      evaluationPeriods: 2,
      description: `API p99 latency at least ${config.latencyAlarmMs} ms, twice in a row`,
    });

    const throttle = (metricName: string, indexName?: string) =>
      new Metric({
        namespace: 'AWS/DynamoDB',
        metricName,
        dimensionsMap: { TableName: props.table.tableName, ...(indexName ? { GlobalSecondaryIndexName: indexName } : {}) },
        statistic: Stats.SUM,
        period: FIVE_MINUTES,
      });
    const tableThrottles = new MathExpression({
      // A throttled GSI write also throttles the table write that feeds it: both are watched.
      expression: 'readThrottles + writeThrottles + gsiReadThrottles + gsiWriteThrottles',
      usingMetrics: {
        readThrottles: throttle('ReadThrottleEvents'),
        writeThrottles: throttle('WriteThrottleEvents'),
        gsiReadThrottles: throttle('ReadThrottleEvents', GSI_NAME),
        gsiWriteThrottles: throttle('WriteThrottleEvents', GSI_NAME),
      },
      label: 'DynamoDB throttle events (table and gsi1)',
      period: FIVE_MINUTES,
    });
    this.add('TableThrottles', tableThrottles, {
      threshold: 1,
      evaluationPeriods: 1,
      description: 'DynamoDB throttled reads or writes on the service table or its gsi1 (see Contributor Insights for the keys)',
    });
  }

  private add(id: string, metric: IMetric, options: { threshold: number; evaluationPeriods: number; description: string }) {
    const alarm = new Alarm(this, id, {
      metric,
      threshold: options.threshold,
      evaluationPeriods: options.evaluationPeriods,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription: options.description,
    });
    if (this.topic) {
      alarm.addAlarmAction(new SnsAction(this.topic));
      alarm.addOkAction(new SnsAction(this.topic));
    }
    this.alarms.push(alarm);
  }
}
