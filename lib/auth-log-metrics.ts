/**
 * The CloudWatch metrics derived from the handlers' JSON log lines (Powertools Logger, flat
 * keys). Plain data, so the infra tests can run each pattern against captured log lines.
 *
 * Lines they read:
 * - `{"message":"auth_event","type":"fertft","migration":"password_fallback"?,"reason":"upstream_timeout"?,
 *    "migration_outcome":"migrated"?,"migration_source":"<connection or source>"?,...}`
 * - `{"message":"upstream_call","call":"password_realm","outcome":"ok"|"rejected"|"rate_limited"|"unavailable","latency_ms":123,...}`
 */
export const METRIC_NAMESPACE = 'Auth0Migration';

/** Each stack publishes under its own namespace, so a staging stack never counts into prod's alarms. */
export function metricNamespace(stackName: string): string {
  return `${METRIC_NAMESPACE}/${stackName}`;
}

export interface AuthLogMetric {
  /** Construct id and CloudWatch metric name. */
  readonly metricName: string;
  /** CloudWatch Logs JSON filter pattern. */
  readonly filterPattern: string;
  /** `'1'` counts lines; a `$.field` selector publishes that field's value. */
  readonly metricValue: string;
  readonly unit: 'Count' | 'Milliseconds';
  /** Dimensions taken from the line (metric filters with dimensions cannot have a default value). */
  readonly dimensions?: Readonly<Record<string, string>>;
  /** Published when a log batch has no matching line, so rates and alarms see zeros, not gaps. */
  readonly defaultValue?: number;
  readonly description: string;
}

const AUTH_EVENT = '$.message = "auth_event"';
const UPSTREAM_CALL = '$.message = "upstream_call"';
/**
 * One line per migration: the login (`s`, from the password grants and the hosted login page
 * alike) that the password fallback served, the refresh exchange a re-mint served, the password
 * reset that created an upstream-only user, or a social user's first sign-in here (`social`).
 */
const MIGRATION_SUCCESS =
  '(($.type = "s" && $.migration = "password_fallback") || ($.type = "sertft" && $.migration = "refresh_remint") || ($.type = "scp" && $.migration = "password_reset") || ($.type = "s" && $.migration = "social"))';
/** The upstream was asked and did not answer usefully; wrong passwords (upstream_rejected) are not failures. */
const UPSTREAM_FALLBACK_FAILURE =
  `${AUTH_EVENT} && $.migration = "password_fallback" && $.migration_outcome = "upstream_unavailable"`;
/** One line per migration attempt (see lambdas/logs/migration-outcome.ts). */
const MIGRATION_ATTEMPT = `${AUTH_EVENT} && $.migration_outcome = "*"`;
const UPSTREAM_VERIFIED = `${AUTH_EVENT} && ($.migration_outcome = "migrated" || $.migration_outcome = "verified_not_migrated")`;
const UPSTREAM_ERROR_OUTCOME = '($.outcome = "rate_limited" || $.outcome = "unavailable")';

export const authLogMetrics = {
  upstreamVerifications: {
    metricName: 'UpstreamVerifications',
    filterPattern: `{ ${UPSTREAM_VERIFIED} }`,
    metricValue: '1',
    unit: 'Count',
    defaultValue: 0,
    description: 'Users the upstream verified (password or refresh token): the drain headline, must reach 0',
  },
  migrationAttempts: {
    metricName: 'MigrationAttempts',
    filterPattern: `{ ${MIGRATION_ATTEMPT} }`,
    metricValue: '1',
    unit: 'Count',
    dimensions: { path: '$.migration', outcome: '$.migration_outcome', source: '$.migration_source' },
    description: 'Migration attempts per path, outcome and connection or migration source',
  },
  migrationAttemptsByOutcome: {
    metricName: 'MigrationAttemptsByOutcome',
    filterPattern: `{ ${MIGRATION_ATTEMPT} }`,
    metricValue: '1',
    unit: 'Count',
    dimensions: { path: '$.migration', outcome: '$.migration_outcome' },
    description: 'Migration attempts per path and outcome (all connections and sources)',
  },
  failedRefreshExchanges: {
    metricName: 'FailedRefreshExchanges',
    filterPattern: `{ ${AUTH_EVENT} && $.type = "fertft" }`,
    metricValue: '1',
    unit: 'Count',
    defaultValue: 0,
    description: 'Refresh-token exchanges that failed (Auth0 type fertft)',
  },
  refreshExchanges: {
    metricName: 'RefreshExchanges',
    filterPattern: `{ ${AUTH_EVENT} && ($.type = "sertft" || $.type = "fertft") }`,
    metricValue: '1',
    unit: 'Count',
    defaultValue: 0,
    description: 'Refresh-token exchanges, successful or not (sertft, fertft): the base of the failed-refresh rate',
  },
  upstreamFallbackFailures: {
    metricName: 'UpstreamFallbackFailures',
    filterPattern: `{ ${UPSTREAM_FALLBACK_FAILURE} }`,
    metricValue: '1',
    unit: 'Count',
    defaultValue: 0,
    description: 'Password fallbacks the upstream could not answer (timeouts, 5xx, 429; not wrong passwords)',
  },
  upstreamFallbackFailuresByReason: {
    metricName: 'UpstreamFallbackFailuresByReason',
    filterPattern: `{ ${UPSTREAM_FALLBACK_FAILURE} }`,
    metricValue: '1',
    unit: 'Count',
    dimensions: { reason: '$.reason' },
    description: 'Password fallbacks that failed because of the upstream, per reason (upstream_timeout, ...)',
  },
  migrations: {
    metricName: 'Migrations',
    filterPattern: `{ ${AUTH_EVENT} && ${MIGRATION_SUCCESS} }`,
    metricValue: '1',
    unit: 'Count',
    dimensions: { path: '$.migration' },
    description: 'Users served by a successful migration, per path (password_fallback, refresh_remint, password_reset, social)',
  },
  storeOverloads: {
    metricName: 'StoreOverloads',
    // Answered 503 with Retry-After by design, so the API's 5xx alarm leaves them out: this counts them.
    filterPattern: '{ $.message = "store_overloaded" }',
    metricValue: '1',
    unit: 'Count',
    defaultValue: 0,
    description: 'Requests answered 503 because DynamoDB throttled, failed inside or did not answer in time',
  },
  lockouts: {
    metricName: 'Lockouts',
    // The block itself, not the attempts refused while it lasts (those log limit_wc / locked_out).
    filterPattern: `{ ${AUTH_EVENT} && $.type = "limit_wc" && $.reason = "max_attempts_reached" }`,
    metricValue: '1',
    unit: 'Count',
    defaultValue: 0,
    description: 'Identifiers blocked after consecutive failed logins (Auth0 type limit_wc)',
  },
  upstreamCalls: {
    metricName: 'UpstreamCalls',
    filterPattern: `{ ${UPSTREAM_CALL} }`,
    metricValue: '1',
    unit: 'Count',
    defaultValue: 0,
    description: 'HTTP calls to the upstream Auth0, whatever their answer (wrong passwords included)',
  },
  upstreamCallsByKind: {
    metricName: 'UpstreamCallsByKind',
    filterPattern: `{ ${UPSTREAM_CALL} }`,
    metricValue: '1',
    unit: 'Count',
    dimensions: { call: '$.call' },
    description: 'HTTP calls to the upstream Auth0 per endpoint (password_realm, refresh_token, userinfo)',
  },
  upstreamCallErrors: {
    metricName: 'UpstreamCallErrors',
    filterPattern: `{ ${UPSTREAM_CALL} && ${UPSTREAM_ERROR_OUTCOME} }`,
    metricValue: '1',
    unit: 'Count',
    defaultValue: 0,
    description: 'Upstream calls that were rate limited or found the upstream unavailable (timeouts, 5xx, open breaker)',
  },
  upstreamLatency: {
    metricName: 'UpstreamLatency',
    filterPattern: `{ ${UPSTREAM_CALL} && $.latency_ms >= 0 }`,
    metricValue: '$.latency_ms',
    unit: 'Milliseconds',
    description: 'Latency of upstream calls as measured by the handler',
  },
} as const satisfies Record<string, AuthLogMetric>;

export type AuthLogMetricKey = keyof typeof authLogMetrics;
