/**
 * Deployment parameters, read from CDK context (`-c key=value` or cdk.json) with an
 * environment-variable fallback, so `npx cdk deploy -c domainName=auth.example.com` and
 * `DOMAIN_NAME=auth.example.com npx cdk deploy` are the same.
 */
export interface DeploymentConfig {
  readonly stackName: string;
  /** Custom domain clients call (the issuer is `https://<domainName>/`); absent: the execute-api URL. */
  readonly domainName?: string;
  /** ACM certificate (same region as the stack) for `domainName`. */
  readonly certificateArn?: string;
  /** When set, alarms notify an SNS topic with this e-mail subscription. */
  readonly alarmEmail?: string;
  readonly defaultTenant: string;
  readonly logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  readonly logRetentionDays: number;
  readonly throttleRateLimit: number;
  readonly throttleBurstLimit: number;
  readonly upstreamTimeoutMs: number;
  readonly upstreamBudgetMs: number;
  /** Time all registration hooks of one trigger may take together. */
  readonly hookBudgetMs: number;
  /** Minimum fertft events in 5 minutes before the failed-refresh rate can alarm. */
  readonly failedRefreshAlarmThreshold: number;
  /** Percentage of refresh exchanges failing (with at least the minimum above) that alarms. */
  readonly failedRefreshRatePercent: number;
  /** Lockouts (limit_wc) in 5 minutes that alarm: credential stuffing, or a broken client. */
  readonly lockoutAlarmThreshold: number;
  /** Percentage of API answers that are 4xx (with at least 100 requests in 5 minutes) that alarms. */
  readonly api4xxRatePercent: number;
  /** API p99 latency (ms, two 5-minute periods) that alarms; a password fallback may take ~5 s. */
  readonly latencyAlarmMs: number;
  /** Reserved concurrency of the token / management functions; unset: the account's pool. */
  readonly tokenReservedConcurrency?: number;
  readonly managementReservedConcurrency?: number;
  /** Active X-Ray tracing of both functions (trace ids then appear in every log line). */
  readonly tracing: boolean;
  /** Percentage of upstream calls rate limited or unavailable that raises the upstream alarm. */
  readonly upstreamErrorRatePercent: number;
  /** A Lambda function (name or ARN) the token function invokes at every user-token issuance (custom claims). */
  readonly postLoginFunctionName?: string;
  readonly postLoginTimeoutMs: number;
  readonly postLoginFailureMode: 'open' | 'closed';
  /** Verified SES sender (address) of password-reset and verification mail; absent: no mail is sent. */
  readonly mailFrom?: string;
  /**
   * Days without a successful upstream verification after which the "safe to switch off" alarm
   * turns to ALARM. CloudWatch evaluates at most 7 days, so 1 to 7; for a longer refresh-token
   * lifetime, check `days_since_last_upstream_verification` of `GET /api/v2/stats/migration`.
   */
  readonly switchOffQuietDays: number;
}

function atMost(max: number, key: string, value: number, why: string): number {
  if (value > max) throw new Error(`${key} must be at most ${max} (${why}), got ${value}`);
  return value;
}

/** Reads one setting: context first, then environment. */
export type SettingReader = (contextKey: string, envKey: string) => string | undefined;

const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
/** The token function's timeout (lib/service-functions.ts reads it). */
export const TOKEN_TIMEOUT_MS = 15_000;

export function readDeploymentConfig(read: SettingReader): DeploymentConfig {
  const text = (key: string, env: string) => {
    const value = read(key, env)?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const integer = (key: string, env: string, fallback: number) => {
    const value = text(key, env);
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed <= 0) throw new Error(`${key} must be a positive integer, got "${value}"`);
    return parsed;
  };
  const optionalInteger = (key: string, env: string) => (text(key, env) === undefined ? undefined : integer(key, env, 0));
  const flag = (key: string, env: string) => {
    const value = text(key, env)?.toLowerCase();
    if (value === undefined || value === 'false') return false;
    if (value === 'true') return true;
    throw new Error(`${key} must be true or false, got "${value}"`);
  };
  const logLevel = (text('logLevel', 'LOG_LEVEL') ?? 'INFO').toUpperCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) throw new Error(`logLevel must be one of ${LOG_LEVELS.join(', ')}`);
  const domainName = text('domainName', 'DOMAIN_NAME');
  const certificateArn = text('certificateArn', 'CERTIFICATE_ARN');
  if (domainName && !certificateArn) throw new Error('domainName needs certificateArn (an ACM certificate in the stack region)');
  const budgets = {
    upstreamBudgetMs: integer('upstreamBudgetMs', 'UPSTREAM_BUDGET_MS', 4500),
    hookBudgetMs: integer('hookBudgetMs', 'HOOK_BUDGET_MS', 5000),
  };
  // A migrating login spends both budgets, then bcrypt and the writes: all within the token
  // function's timeout (lib/service-functions.ts), with room to answer.
  if (budgets.upstreamBudgetMs + budgets.hookBudgetMs > TOKEN_TIMEOUT_MS - 3000) {
    throw new Error(`upstreamBudgetMs + hookBudgetMs must leave 3 s of the token function's ${TOKEN_TIMEOUT_MS / 1000} s timeout`);
  }
  return {
    stackName: text('stackName', 'STACK_NAME') ?? 'Auth0Migration',
    domainName,
    certificateArn,
    alarmEmail: text('alarmEmail', 'ALARM_EMAIL'),
    defaultTenant: text('defaultTenant', 'DEFAULT_TENANT') ?? 'default',
    logLevel: logLevel as DeploymentConfig['logLevel'],
    logRetentionDays: integer('logRetentionDays', 'LOG_RETENTION_DAYS', 90),
    throttleRateLimit: integer('throttleRateLimit', 'THROTTLE_RATE_LIMIT', 100),
    throttleBurstLimit: integer('throttleBurstLimit', 'THROTTLE_BURST_LIMIT', 200),
    upstreamTimeoutMs: integer('upstreamTimeoutMs', 'UPSTREAM_TIMEOUT_MS', 2500),
    ...budgets,
    postLoginFunctionName: text('postLoginFunctionName', 'POST_LOGIN_FUNCTION_NAME'),
    postLoginTimeoutMs: integer('postLoginTimeoutMs', 'POST_LOGIN_TIMEOUT_MS', 2000),
    postLoginFailureMode: text('postLoginFailureMode', 'POST_LOGIN_FAILURE_MODE') === 'open' ? 'open' : 'closed',
    mailFrom: text('mailFrom', 'MAIL_FROM'),
    failedRefreshAlarmThreshold: integer('failedRefreshAlarmThreshold', 'FAILED_REFRESH_ALARM_THRESHOLD', 50),
    failedRefreshRatePercent: integer('failedRefreshRatePercent', 'FAILED_REFRESH_RATE_PERCENT', 20),
    lockoutAlarmThreshold: integer('lockoutAlarmThreshold', 'LOCKOUT_ALARM_THRESHOLD', 20),
    api4xxRatePercent: integer('api4xxRatePercent', 'API_4XX_RATE_PERCENT', 50),
    latencyAlarmMs: integer('latencyAlarmMs', 'LATENCY_ALARM_MS', 6000),
    tokenReservedConcurrency: optionalInteger('tokenReservedConcurrency', 'TOKEN_RESERVED_CONCURRENCY'),
    managementReservedConcurrency: optionalInteger('managementReservedConcurrency', 'MANAGEMENT_RESERVED_CONCURRENCY'),
    tracing: flag('tracing', 'TRACING'),
    upstreamErrorRatePercent: integer('upstreamErrorRatePercent', 'UPSTREAM_ERROR_RATE_PERCENT', 20),
    switchOffQuietDays: atMost(7, 'switchOffQuietDays', integer('switchOffQuietDays', 'SWITCH_OFF_QUIET_DAYS', 7), 'CloudWatch alarms evaluate at most 7 days'),
  };
}
