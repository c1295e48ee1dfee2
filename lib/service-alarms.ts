import { Duration, Stack } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  MathExpression,
  TreatMissingData,
  type IMetric,
} from 'aws-cdk-lib/aws-cloudwatch';
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
  readonly functions: Record<FunctionName, IFunction>;
}

const FIVE_MINUTES = Duration.minutes(5);

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

    this.add('FailedRefreshSpike', authLogMetric(ns, 'failedRefreshExchanges', { period: FIVE_MINUTES }), {
      threshold: config.failedRefreshAlarmThreshold,
      evaluationPeriods: 1,
      description: `At least ${config.failedRefreshAlarmThreshold} failed refresh exchanges (fertft) in 5 minutes`,
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

    for (const [name, fn] of Object.entries(props.functions)) {
      this.add(`${name}FunctionErrors`, fn.metricErrors({ period: FIVE_MINUTES }), {
        threshold: 1,
        evaluationPeriods: 1,
        description: `The ${name} function failed (crash or timeout, not an OAuth error)`,
      });
      this.add(`${name}FunctionThrottles`, fn.metricThrottles({ period: FIVE_MINUTES }), {
        threshold: 1,
        evaluationPeriods: 1,
        description: `The ${name} function was throttled (account concurrency)`,
      });
    }

    this.add('Api5xx', props.api.metricServerError({ period: FIVE_MINUTES }), {
      threshold: 5,
      evaluationPeriods: 1,
      description: 'The HTTP API answered 5xx at least 5 times in 5 minutes',
    });

    const tableThrottles = new MathExpression({
      expression: 'readThrottles + writeThrottles',
      usingMetrics: {
        readThrottles: props.table.metric('ReadThrottleEvents', { period: FIVE_MINUTES, statistic: 'Sum' }),
        writeThrottles: props.table.metric('WriteThrottleEvents', { period: FIVE_MINUTES, statistic: 'Sum' }),
      },
      label: 'DynamoDB throttle events',
      period: FIVE_MINUTES,
    });
    this.add('TableThrottles', tableThrottles, {
      threshold: 1,
      evaluationPeriods: 1,
      description: 'DynamoDB throttled reads or writes on the service table',
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
