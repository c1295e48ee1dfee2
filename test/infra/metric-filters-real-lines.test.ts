import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authLogMetrics, metricNamespace, type AuthLogMetricKey } from '../../lib/auth-log-metrics.js';
import { MIGRATION_PATHS, UPSTREAM_CALL_KINDS } from '../../lib/drain-dashboard.js';
import { API_SERVER_ERRORS_METRIC } from '../../lib/service-alarms.js';
import { PASSWORD_REALM_GRANT, startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { closeUpstreamBreaker, createAdjustableClock, linkUpstream, type UpstreamLink } from '../support/import-mode.js';
import { startTestService, type TestService } from '../support/local-service.js';
import { addMigrationSource } from '../support/migration-source.js';
import { compileJsonFilterPattern, dimensionValuesOf, metricValueOf } from './support/json-filter-pattern.js';
import { capturePrintedLogLines, type PrintedLogCapture } from './support/printed-log-lines.js';
import { buildTestStack, removeTestAssemblies, resourcesOfType } from './support/test-stack.js';

/**
 * The stack's metric filters against REAL log lines: the local server is driven over HTTP
 * through each migration scenario, with the handlers' own stdout sink (Powertools Logger) whose
 * printed output is captured, i.e. the exact lines CloudWatch Logs would receive. Every metric
 * filter of the synthesized stack is then run over each scenario's lines.
 */
const SERVICE_NAME = `metric-filters-${randomBytes(4).toString('hex')}`;
const clock = createAdjustableClock();

type Scenario = 'passwordMigration' | 'fallback503' | 'fallback429' | 'unknownEmail' | 'refreshRemint' | 'refreshRejected' | 'lockout';
const scenarioNames: Scenario[] = ['passwordMigration', 'fallback503', 'fallback429', 'unknownEmail', 'refreshRemint', 'refreshRejected', 'lockout'];

let capture: PrintedLogCapture;
let service: TestService;
let upstream: FakeUpstream;
let link: UpstreamLink;
let sourceId: string;
const linesOf = {} as Record<Scenario, string[]>;
const statusesOf = {} as Record<Scenario, number[]>;
const upstreamRequestsOf = {} as Record<Scenario, number>;
/** Every password, token and secret that went over the wire; none may reach a log line. */
const secrets: string[] = [];

async function scenario(name: Scenario, run: () => Promise<number[]>) {
  const firstLine = capture.printed.length;
  const firstRequest = upstream.requests.length;
  statusesOf[name] = await run();
  linesOf[name] = capture.printed.slice(firstLine);
  upstreamRequestsOf[name] = upstream.requests
    .slice(firstRequest)
    .filter((r) => r.endpoint === 'token' || r.endpoint === 'userinfo').length;
}

function passwordLogin(username: string, password: string) {
  const { webClient, connection } = service.credentials;
  secrets.push(password);
  return service.postForm('/oauth/token', {
    grant_type: PASSWORD_REALM_GRANT, realm: connection.name, username, password, scope: 'openid profile email offline_access',
    client_id: webClient.client_id, client_secret: webClient.client_secret,
  });
}

function refreshExchange(refreshToken: string) {
  const { webClient } = service.credentials;
  secrets.push(refreshToken);
  return service.postForm('/oauth/token', {
    grant_type: 'refresh_token', refresh_token: refreshToken, client_id: webClient.client_id, client_secret: webClient.client_secret,
  });
}

function keepIssuedTokens(body: Record<string, unknown>) {
  for (const name of ['access_token', 'id_token', 'refresh_token']) if (typeof body?.[name] === 'string') secrets.push(body[name] as string);
}

beforeAll(async () => {
  capture = capturePrintedLogLines(SERVICE_NAME);
  upstream = await startFakeUpstream();
  service = await startTestService({ sink: capture.sink, now: clock.now, config: { bcryptCost: 4 } });
  link = await linkUpstream(service, upstream);
  const { source } = await addMigrationSource(service, upstream);
  sourceId = source.id;
  secrets.push(service.credentials.webClient.client_secret!, link.clientSecret, service.credentials.demoUser.password);
  secrets.push((await service.deps.secrets.get(source.credentials.client_secret_ref))!);

  await scenario('passwordMigration', async () => {
    const user = upstream.addUser({ email: `migrated-${SERVICE_NAME}@example.com`, password: 'Upstream-password-1' });
    const res = await passwordLogin(user.email, 'Upstream-password-1');
    keepIssuedTokens(res.body);
    return [res.status];
  });
  const stranded = upstream.addUser({ email: `stranded-${SERVICE_NAME}@example.com`, password: 'Upstream-password-2' });
  await scenario('fallback503', async () => {
    upstream.failNext('token', { status: 503 });
    const res = await passwordLogin(stranded.email, 'Upstream-password-2');
    closeUpstreamBreaker(service, link);
    return [res.status];
  });
  await scenario('fallback429', async () => {
    // Longer than a login waits (a shorter pause is waited out and the login succeeds).
    upstream.failNext('token', { status: 429, retryAfter: 4 });
    const res = await passwordLogin(stranded.email, 'Upstream-password-2');
    closeUpstreamBreaker(service, link);
    // The global limit pauses every upstream call until its reset (whole seconds): past it.
    clock.advance(5_100);
    return [res.status];
  });
  // A mistyped e-mail: the upstream is asked and says no. Not a verification, so not a drain count.
  await scenario('unknownEmail', async () => [(await passwordLogin(`nobody-${SERVICE_NAME}@example.com`, 'Whatever-password-4')).status]);
  await scenario('refreshRemint', async () => {
    const user = upstream.addUser({ email: `remint-${SERVICE_NAME}@example.com`, password: 'Upstream-password-3' });
    const res = await refreshExchange(
      upstream.issueRefreshToken({ sub: user.sub, client_id: source.credentials.client_id, scope: 'openid profile email offline_access' }),
    );
    keepIssuedTokens(res.body);
    return [res.status];
  });
  await scenario('refreshRejected', async () => [(await refreshExchange(`garbage-${randomBytes(12).toString('hex')}`)).status]);
  await scenario('lockout', async () => {
    const statuses: number[] = [];
    for (let i = 1; i <= 3; i++) statuses.push((await passwordLogin(service.credentials.demoUser.email, `Not-the-password-${i}`)).status);
    return statuses;
  });
});

afterAll(async () => {
  await service?.close();
  await upstream?.close();
  capture?.stop();
  removeTestAssemblies();
});

/** A short description of a line: what the expectations below are written in. */
function describeLine(raw: string): string {
  const line = JSON.parse(raw) as Record<string, unknown>;
  if (line.message === 'upstream_call') return `upstream_call ${line.call} ${line.outcome}`;
  if (line.message === 'auth_event') return `${line.type} ${line.migration ?? '-'} ${line.reason ?? '-'}`;
  return `${line.level} ${line.message}`;
}

const passwordMigrationCalls = ['upstream_call password_realm ok', 'upstream_call userinfo ok'];
const fallbackCall503 = ['upstream_call password_realm unavailable'];
const fallbackCall429 = ['upstream_call password_realm rate_limited'];
const remintCalls = ['upstream_call refresh_token ok', 'upstream_call userinfo ok'];
const rejectedRefreshCall = ['upstream_call refresh_token rejected'];
const unknownEmailCall = ['upstream_call password_realm rejected'];
const allUpstreamCalls: Partial<Record<Scenario, string[]>> = {
  passwordMigration: passwordMigrationCalls, fallback503: fallbackCall503, fallback429: fallbackCall429,
  unknownEmail: unknownEmailCall, refreshRemint: remintCalls, refreshRejected: rejectedRefreshCall,
};
const verifications: Partial<Record<Scenario, string[]>> = {
  passwordMigration: ['ss password_fallback -'], refreshRemint: ['sertft refresh_remint -'],
};
const migrationAttempts: Partial<Record<Scenario, string[]>> = {
  ...verifications, ...{
    fallback503: ['fp password_fallback upstream_server_error'],
    fallback429: ['fp password_fallback upstream_rate_limited'],
    unknownEmail: ['fp password_fallback upstream_rejected:invalid_grant'],
    refreshRejected: ['fertft refresh_remint rejected_by_all_sources'],
  },
};
const fallbackFailures: Partial<Record<Scenario, string[]>> = {
  fallback503: ['fp password_fallback upstream_server_error'],
  fallback429: ['fp password_fallback upstream_rate_limited'],
};

/** For each metric, the lines of each scenario it counts (a scenario left out: none of its lines). */
const expectedMatches: Record<AuthLogMetricKey, Partial<Record<Scenario, string[]>>> = {
  upstreamVerifications: verifications,
  migrationAttempts,
  migrationAttemptsByOutcome: migrationAttempts,
  // None of the scenarios overloads the store (see test/integration/store-overload-answers.test.ts).
  storeOverloads: {},
  failedRefreshExchanges: { refreshRejected: ['fertft refresh_remint rejected_by_all_sources'] },
  refreshExchanges: { refreshRemint: ['sertft refresh_remint -'], refreshRejected: ['fertft refresh_remint rejected_by_all_sources'] },
  upstreamFallbackFailures: fallbackFailures,
  upstreamFallbackFailuresByReason: fallbackFailures,
  migrations: { passwordMigration: ['s password_fallback -'], refreshRemint: ['sertft refresh_remint -'] },
  lockouts: { lockout: ['limit_wc - max_attempts_reached'] },
  upstreamCalls: allUpstreamCalls,
  upstreamCallsByKind: allUpstreamCalls,
  upstreamCallErrors: { fallback503: fallbackCall503, fallback429: fallbackCall429 },
  upstreamLatency: allUpstreamCalls,
};

interface DeployedFilter { namespace: string; metricName: string; pattern: string; metricValue: string; dimensions: Record<string, string> }

/** The metric filters of the synthesized stack on the function logs (one per metric and log group). */
function deployedFilters(): DeployedFilter[] {
  const { template } = buildTestStack();
  return Object.values(resourcesOfType(template(), 'AWS::Logs::MetricFilter')).filter((resource) =>
    (resource.Properties!.MetricTransformations as Array<{ MetricName: string }>)[0].MetricName !== API_SERVER_ERRORS_METRIC,
  ).map((resource) => {
    const [transformation] = resource.Properties!.MetricTransformations as Array<{
      MetricName: string; MetricNamespace: string; MetricValue: string; Dimensions?: Array<{ Key: string; Value: string }>;
    }>;
    return {
      namespace: transformation.MetricNamespace,
      metricName: transformation.MetricName,
      pattern: resource.Properties!.FilterPattern as string,
      metricValue: transformation.MetricValue,
      dimensions: Object.fromEntries((transformation.Dimensions ?? []).map((d) => [d.Key, d.Value])),
    };
  });
}

const metricKeys = Object.keys(authLogMetrics) as AuthLogMetricKey[];
const filters = deployedFilters();
const filtersOf = (key: AuthLogMetricKey) => filters.filter((f) => f.metricName === authLogMetrics[key].metricName);
const allLines = () => scenarioNames.flatMap((name) => linesOf[name]);

describe('the scenarios produced the lines they are meant to', () => {
  it('each scenario answered as expected (migration 200, upstream failure 403, global limit 429, re-mint 200, garbage 403, three wrong passwords 403)', () => {
    expect(statusesOf).toEqual({
      passwordMigration: [200], fallback503: [403], fallback429: [429], unknownEmail: [403], refreshRemint: [200], refreshRejected: [403], lockout: [403, 403, 403],
    });
  });

  it('every captured line is one JSON object as the Powertools Logger prints it (level, message, service, timestamp)', () => {
    expect(allLines().length).toBeGreaterThan(0);
    for (const raw of allLines()) {
      expect(JSON.parse(raw)).toMatchObject({ level: expect.any(String), message: expect.any(String), service: SERVICE_NAME, timestamp: expect.any(String) });
    }
  });

  it('one upstream_call line is printed for each request the upstream received', () => {
    for (const name of scenarioNames) {
      const calls = linesOf[name].filter((raw) => JSON.parse(raw).message === 'upstream_call');
      expect({ name, calls: calls.length }).toEqual({ name, calls: upstreamRequestsOf[name] });
    }
  });

  it('no password, token or client secret appears in any printed line', () => {
    expect(secrets.length).toBeGreaterThan(8);
    for (const raw of allLines()) for (const secret of secrets) expect(raw.includes(secret), `${secret} in ${raw}`).toBe(false);
  });
});

describe('every metric filter of the stack against the real lines', () => {
  it('the stack deploys a filter for every metric, and only those', () => {
    expect(new Set(filters.map((f) => f.namespace))).toEqual(new Set([metricNamespace('Auth0Migration')]));
    expect(new Set(filters.map((f) => f.metricName))).toEqual(new Set(metricKeys.map((key) => authLogMetrics[key].metricName)));
  });

  it.each(metricKeys)('%s counts exactly the lines of the scenarios it is meant to count', (key) => {
    expect(filtersOf(key).length).toBeGreaterThan(0);
    for (const filter of filtersOf(key)) {
      const matches = compileJsonFilterPattern(filter.pattern);
      const counted = Object.fromEntries(scenarioNames.map((name) => [name, linesOf[name].filter(matches).map(describeLine)]));
      const expected = Object.fromEntries(scenarioNames.map((name) => [name, expectedMatches[key][name] ?? []]));
      expect(counted).toEqual(expected);
    }
  });

  it('Migrations: one password_fallback and one refresh_remint, under the path names the dashboard plots', () => {
    for (const filter of filtersOf('migrations')) {
      const paths = allLines().filter(compileJsonFilterPattern(filter.pattern)).map((raw) => dimensionValuesOf(filter.dimensions, raw).path);
      expect(paths.sort()).toEqual(['password_fallback', 'refresh_remint']);
      expect(paths.every((path) => (MIGRATION_PATHS as readonly unknown[]).includes(path))).toBe(true);
    }
  });

  it('MigrationAttempts: each attempt under its path, outcome and connection or source, with the outcomes the dashboard plots', () => {
    for (const filter of filtersOf('migrationAttempts')) {
      const dims = allLines()
        .filter(compileJsonFilterPattern(filter.pattern))
        .map((raw) => dimensionValuesOf(filter.dimensions, raw))
        .map(({ path, outcome, source }) => `${path} ${outcome} ${source === service.credentials.connection.name ? 'connection' : source}`);
      expect(dims.sort()).toEqual([
        'password_fallback migrated connection',
        'password_fallback upstream_rejected connection',
        'password_fallback upstream_unavailable connection',
        'password_fallback upstream_unavailable connection',
        `refresh_remint migrated ${sourceId}`,
        `refresh_remint upstream_rejected ${sourceId}`,
      ]);
    }
  });

  it('UpstreamFallbackFailuresByReason: one line per injected failure, split by its upstream reason', () => {
    for (const filter of filtersOf('upstreamFallbackFailuresByReason')) {
      const reasons = allLines().filter(compileJsonFilterPattern(filter.pattern)).map((raw) => dimensionValuesOf(filter.dimensions, raw).reason);
      expect(reasons.sort()).toEqual(['upstream_rate_limited', 'upstream_server_error']);
    }
  });

  it('UpstreamCallErrors equals the injected failures (one 503, one 429) and UpstreamCalls every upstream request', () => {
    const totalRequests = scenarioNames.reduce((sum, name) => sum + upstreamRequestsOf[name], 0);
    for (const filter of filtersOf('upstreamCallErrors')) expect(allLines().filter(compileJsonFilterPattern(filter.pattern))).toHaveLength(2);
    for (const filter of filtersOf('upstreamCalls')) expect(allLines().filter(compileJsonFilterPattern(filter.pattern))).toHaveLength(totalRequests);
  });

  it('UpstreamCallsByKind: every call kind in the real lines is one the dashboard plots', () => {
    for (const filter of filtersOf('upstreamCallsByKind')) {
      const kinds = new Set(allLines().filter(compileJsonFilterPattern(filter.pattern)).map((raw) => dimensionValuesOf(filter.dimensions, raw).call));
      expect(kinds).toEqual(new Set(UPSTREAM_CALL_KINDS));
    }
  });

  it('UpstreamLatency publishes the latency_ms each upstream_call line carries', () => {
    for (const filter of filtersOf('upstreamLatency')) {
      const matched = allLines().filter(compileJsonFilterPattern(filter.pattern));
      expect(matched).toHaveLength(scenarioNames.reduce((sum, name) => sum + upstreamRequestsOf[name], 0));
      const published = matched.map((raw) => metricValueOf(filter.metricValue, raw));
      expect(published).toEqual(matched.map((raw) => (JSON.parse(raw) as { latency_ms: unknown }).latency_ms));
      expect(published.every((value) => typeof value === 'number' && value >= 0)).toBe(true);
    }
  });

  it('the counting metrics publish 1 per matched line', () => {
    for (const key of metricKeys.filter((k) => k !== 'upstreamLatency')) {
      for (const filter of filtersOf(key)) expect({ key, value: filter.metricValue }).toEqual({ key, value: '1' });
    }
  });
});
