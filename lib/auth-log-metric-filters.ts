import { Duration } from 'aws-cdk-lib';
import { Metric, Stats, Unit, type MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import { FilterPattern, MetricFilter, type ILogGroup } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { authLogMetrics, type AuthLogMetric, type AuthLogMetricKey } from './auth-log-metrics.js';

export interface AuthLogMetricFiltersProps {
  /** Log groups of the functions that print auth events and upstream calls. */
  readonly logGroups: Readonly<Record<string, ILogGroup>>;
  /** The stack's own metric namespace (see metricNamespace). */
  readonly namespace: string;
}

/**
 * One metric filter per (metric, log group). Filters on different log groups that publish to
 * the same namespace/name/dimensions add up into one metric.
 */
export class AuthLogMetricFilters extends Construct {
  constructor(scope: Construct, id: string, props: AuthLogMetricFiltersProps) {
    super(scope, id);
    for (const [groupName, logGroup] of Object.entries(props.logGroups)) {
      for (const definition of Object.values(authLogMetrics) as AuthLogMetric[]) {
        new MetricFilter(this, `${definition.metricName}-${groupName}`, {
          logGroup,
          filterPattern: FilterPattern.literal(definition.filterPattern),
          metricNamespace: props.namespace,
          metricName: definition.metricName,
          metricValue: definition.metricValue,
          unit: definition.unit === 'Milliseconds' ? Unit.MILLISECONDS : Unit.COUNT,
          ...(definition.dimensions ? { dimensions: { ...definition.dimensions } } : {}),
          ...(definition.defaultValue !== undefined ? { defaultValue: definition.defaultValue } : {}),
        });
      }
    }
  }
}

/** A CloudWatch metric published by the filters above, in the stack's namespace. */
export function authLogMetric(
  namespace: string,
  key: AuthLogMetricKey,
  options: MetricOptions & { dimensions?: Record<string, string> } = {},
): Metric {
  const definition: AuthLogMetric = authLogMetrics[key];
  return new Metric({
    namespace,
    metricName: definition.metricName,
    statistic: options.statistic ?? Stats.SUM,
    period: options.period ?? Duration.minutes(5),
    label: options.label,
    dimensionsMap: options.dimensions,
  });
}
