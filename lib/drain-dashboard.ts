import { Duration } from 'aws-cdk-lib';
import {
  AlarmStatusWidget,
  Dashboard,
  GraphWidget,
  LogQueryWidget,
  MathExpression,
  SingleValueWidget,
  TextWidget,
  type IAlarm,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { ILogGroup } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { MIGRATION_OUTCOMES, UPSTREAM_VERIFIED_OUTCOMES } from '../lambdas/logs/migration-outcome.js';
import { authLogMetric } from './auth-log-metric-filters.js';
import { authLogMetrics } from './auth-log-metrics.js';

export const DRAIN_DASHBOARD_NAME = 'Migration-drain';

const DAY = Duration.days(1);
const HOUR = Duration.hours(1);
export const MIGRATION_PATHS = ['password_fallback', 'refresh_remint', 'password_reset', 'social'] as const;
export const UPSTREAM_CALL_KINDS = ['password_realm', 'refresh_token', 'userinfo'] as const;

export interface DrainDashboardProps {
  /** Prefixed to the dashboard name so several stages can live in one account. */
  readonly namePrefix: string;
  /** The stack's metric namespace. */
  readonly namespace: string;
  /** Log groups with the auth events (the "last upstream verification" query reads them). */
  readonly logGroups: readonly ILogGroup[];
  /** The "safe to switch off" alarm, shown next to the headline. */
  readonly switchOffAlarm?: IAlarm;
  /** Every other alarm, shown as a status row. */
  readonly alarms?: readonly IAlarm[];
  /** More rows (Lambda, API and table health), added below the drain rows. */
  readonly healthWidgets?: ConstructorParameters<typeof GraphWidget>[0][];
}

/** The Logs Insights query behind "last upstream verification": the same lines the headline counts. */
export const LAST_VERIFICATION_QUERY = [
  'filter message = "auth_event" and (migration_outcome = "migrated" or migration_outcome = "verified_not_migrated")',
  'stats max(@timestamp) as last_upstream_verification, count(*) as verifications',
];

/**
 * "Migration drain": the headline is the number of users the upstream still verifies per day,
 * which must reach zero (and stay there for a refresh-token lifetime) before the upstream tenant
 * is switched off; next to it the date of the last verification and the "safe to switch off" alarm.
 */
export class DrainDashboard extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: DrainDashboardProps) {
    super(scope, id);
    const ns = props.namespace;
    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: `${props.namePrefix}-${DRAIN_DASHBOARD_NAME}`,
      start: '-P30D',
    });

    this.dashboard.addWidgets(
      new TextWidget({
        width: 24,
        height: 2,
        markdown:
          '# Migration drain\n' +
          '**Successful upstream verifications per day** must fall to zero and stay there for a full refresh-token ' +
          'lifetime before the upstream Auth0 tenant is switched off; the "safe to switch off" alarm turns to ALARM ' +
          'when there was none for the configured number of days (see docs/deployment.md). The same figures: `GET /api/v2/stats/migration`.',
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Successful upstream verifications per day (must reach 0)',
        width: 12,
        left: [
          authLogMetric(ns, 'upstreamVerifications', { period: DAY, label: 'upstream verifications (all paths)' }),
          ...MIGRATION_PATHS.flatMap((path) =>
            UPSTREAM_VERIFIED_OUTCOMES.map((outcome) =>
              authLogMetric(ns, 'migrationAttemptsByOutcome', { period: DAY, dimensions: { path, outcome }, label: `${path} ${outcome}` }),
            ),
          ),
        ],
        leftYAxis: { min: 0 },
      }),
      new LogQueryWidget({
        title: 'Last successful upstream verification',
        width: 6,
        logGroupNames: props.logGroups.map((group) => group.logGroupName),
        queryLines: LAST_VERIFICATION_QUERY,
      }),
      ...(props.switchOffAlarm
        ? [new AlarmStatusWidget({ title: 'Safe to switch off the upstream?', width: 6, alarms: [props.switchOffAlarm] })]
        : []),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Migration attempts per day by path and outcome',
        width: 12,
        stacked: true,
        left: MIGRATION_PATHS.flatMap((path) =>
          MIGRATION_OUTCOMES.map((outcome) =>
            authLogMetric(ns, 'migrationAttemptsByOutcome', { period: DAY, dimensions: { path, outcome }, label: `${path} ${outcome}` }),
          ),
        ),
        leftYAxis: { min: 0 },
      }),
      new GraphWidget({
        title: 'Migrations per day by path',
        width: 12,
        stacked: true,
        left: MIGRATION_PATHS.map((path) => authLogMetric(ns, 'migrations', { period: DAY, dimensions: { path }, label: path })),
        leftYAxis: { min: 0 },
      }),
    );
    this.dashboard.addWidgets(
      new SingleValueWidget({
        title: 'Upstream verifications in the time range shown',
        width: 6,
        setPeriodToTimeRange: true,
        metrics: [authLogMetric(ns, 'upstreamVerifications', { label: 'upstream verifications' })],
      }),
      new GraphWidget({
        title: 'Failed exchanges per hour',
        width: 9,
        left: [
          authLogMetric(ns, 'failedRefreshExchanges', { period: HOUR, label: 'failed refresh exchanges (fertft)' }),
          authLogMetric(ns, 'upstreamFallbackFailures', { period: HOUR, label: 'password fallbacks the upstream could not answer' }),
          authLogMetric(ns, 'lockouts', { period: HOUR, label: 'lockouts (limit_wc)' }),
        ],
        leftYAxis: { min: 0 },
      }),
      new GraphWidget({
        title: 'Upstream password-fallback failures by reason',
        width: 9,
        left: [
          new MathExpression({
            expression: `SEARCH('{${ns},reason} MetricName="${authLogMetrics.upstreamFallbackFailuresByReason.metricName}"', 'Sum', 3600)`,
            label: '',
            period: HOUR,
          }),
        ],
        leftYAxis: { min: 0 },
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Upstream latency (ms)',
        width: 12,
        left: ['p50', 'p90', 'p99'].map((statistic) => authLogMetric(ns, 'upstreamLatency', { period: HOUR, statistic, label: statistic })),
        leftYAxis: { min: 0 },
      }),
      new GraphWidget({
        title: 'Upstream calls per hour: all, and rate limited or unavailable',
        width: 12,
        left: [
          authLogMetric(ns, 'upstreamCalls', { period: HOUR, label: 'upstream calls' }),
          authLogMetric(ns, 'upstreamCallErrors', { period: HOUR, label: 'upstream errors' }),
          ...UPSTREAM_CALL_KINDS.map((call) => authLogMetric(ns, 'upstreamCallsByKind', { period: HOUR, dimensions: { call }, label: call })),
        ],
        leftYAxis: { min: 0 },
      }),
    );
    if (props.healthWidgets?.length) {
      this.dashboard.addWidgets(...props.healthWidgets.map((widget) => new GraphWidget({ width: 8, leftYAxis: { min: 0 }, ...widget })));
    }
    if (props.alarms?.length) {
      this.dashboard.addWidgets(new AlarmStatusWidget({ title: 'Alarms', width: 24, alarms: [...props.alarms] }));
    }
  }
}
