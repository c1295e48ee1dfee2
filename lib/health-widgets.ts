import { Duration } from 'aws-cdk-lib';
import type { GraphWidgetProps } from 'aws-cdk-lib/aws-cloudwatch';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import type { TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { FunctionName } from '../lambdas/routes.js';

const PERIOD = Duration.minutes(5);

/** The service's health next to the drain: Lambda, API and table, one graph each concern. */
export function healthWidgets(p: { functions: Record<FunctionName, IFunction>; api: HttpApi; table: TableV2 }): GraphWidgetProps[] {
  const fns = Object.entries(p.functions);
  return [
    {
      title: 'Lambda invocations, errors and throttles',
      left: fns.flatMap(([name, fn]) => [
        fn.metricInvocations({ period: PERIOD, label: `${name} invocations` }),
        fn.metricErrors({ period: PERIOD, label: `${name} errors` }),
        fn.metricThrottles({ period: PERIOD, label: `${name} throttles` }),
      ]),
    },
    {
      title: 'Lambda duration p99 (ms) and concurrency',
      left: fns.map(([name, fn]) => fn.metricDuration({ period: PERIOD, statistic: 'p99', label: `${name} p99` })),
      right: fns.map(([name, fn]) => fn.metric('ConcurrentExecutions', { period: PERIOD, statistic: 'Maximum', label: `${name} concurrent` })),
    },
    {
      title: 'API requests, 4xx, 5xx and latency',
      left: [
        p.api.metricCount({ period: PERIOD, label: 'requests' }),
        p.api.metricClientError({ period: PERIOD, label: '4xx' }),
        p.api.metricServerError({ period: PERIOD, label: '5xx (503 included)' }),
      ],
      right: ['p50', 'p99'].map((statistic) => p.api.metricLatency({ period: PERIOD, statistic, label: `latency ${statistic}` })),
    },
  ];
}
