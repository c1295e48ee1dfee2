import { Duration } from 'aws-cdk-lib';
import {
  Dashboard,
  GraphWidget,
  MathExpression,
  SingleValueWidget,
  TextWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { authLogMetric } from './auth-log-metric-filters.js';
import { authLogMetrics, METRIC_NAMESPACE } from './auth-log-metrics.js';

export const DRAIN_DASHBOARD_NAME = 'Migration-drain';

const DAY = Duration.days(1);
const HOUR = Duration.hours(1);
export const MIGRATION_PATHS = ['password_fallback', 'refresh_remint'] as const;
export const UPSTREAM_CALL_KINDS = ['password_realm', 'refresh_token', 'userinfo'] as const;

export interface DrainDashboardProps {
  /** Prefixed to the dashboard name so several stages can live in one account. */
  readonly namePrefix: string;
}

/**
 * "Migration drain": how many users each path migrates per day, and the upstream calls per
 * day, the line that must reach zero (and stay there) before the upstream tenant is switched off.
 */
export class DrainDashboard extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: DrainDashboardProps) {
    super(scope, id);
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
          '**Upstream calls per day** must fall to zero and stay there for a full refresh-token lifetime ' +
          'before the upstream Auth0 tenant is switched off (see docs/deployment.md).',
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Upstream calls per day (must reach 0)',
        width: 12,
        left: [
          authLogMetric('upstreamCalls', { period: DAY, label: 'all upstream calls' }),
          ...UPSTREAM_CALL_KINDS.map((call) =>
            authLogMetric('upstreamCallsByKind', { period: DAY, dimensions: { call }, label: call }),
          ),
        ],
        leftYAxis: { min: 0 },
      }),
      new GraphWidget({
        title: 'Migrations per day by path',
        width: 12,
        stacked: true,
        left: MIGRATION_PATHS.map((path) =>
          authLogMetric('migrations', { period: DAY, dimensions: { path }, label: path }),
        ),
        leftYAxis: { min: 0 },
      }),
    );
    this.dashboard.addWidgets(
      new SingleValueWidget({
        title: 'Upstream calls, last 7 days',
        width: 6,
        metrics: [authLogMetric('upstreamCalls', { period: Duration.days(7), label: 'upstream calls' })],
      }),
      new GraphWidget({
        title: 'Failed exchanges per hour',
        width: 9,
        left: [
          authLogMetric('failedRefreshExchanges', { period: HOUR, label: 'failed refresh exchanges (fertft)' }),
          authLogMetric('upstreamFallbackFailures', { period: HOUR, label: 'upstream password-fallback failures' }),
          authLogMetric('lockouts', { period: HOUR, label: 'lockouts (limit_wc)' }),
        ],
        leftYAxis: { min: 0 },
      }),
      new GraphWidget({
        title: 'Upstream password-fallback failures by reason',
        width: 9,
        left: [
          new MathExpression({
            expression: `SEARCH('{${METRIC_NAMESPACE},reason} MetricName="${authLogMetrics.upstreamFallbackFailuresByReason.metricName}"', 'Sum', 3600)`,
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
        left: ['p50', 'p90', 'p99'].map((statistic) =>
          authLogMetric('upstreamLatency', { period: HOUR, statistic, label: statistic }),
        ),
        leftYAxis: { min: 0 },
      }),
      new GraphWidget({
        title: 'Upstream calls rate limited or unavailable per hour',
        width: 12,
        left: [
          authLogMetric('upstreamCallErrors', { period: HOUR, label: 'upstream errors' }),
          authLogMetric('upstreamCalls', { period: HOUR, label: 'upstream calls' }),
        ],
        leftYAxis: { min: 0 },
      }),
    );
  }
}
