import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStdoutSink } from '../../lambdas/logs/log-sink.js';
import { authLogMetrics } from '../../lib/auth-log-metrics.js';
import { managementApi } from '../e2e/management-helpers.js';
import { PASSWORD_REALM_GRANT, startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { linkUpstream } from '../support/import-mode.js';
import { startTestService, type TestService } from '../support/local-service.js';
import { addMigrationSource } from '../support/migration-source.js';
import { compileJsonFilterPattern, dimensionValuesOf } from './support/json-filter-pattern.js';
import { capturePrintedLogLines, type PrintedLogCapture } from './support/printed-log-lines.js';
import { buildTestStack, removeTestAssemblies, renderCfn, resourcesOfType } from './support/test-stack.js';

/**
 * The drain signal at LOG_LEVEL=WARN, the level that used to turn it into a false zero: the
 * service is driven over HTTP through one password migration, one mistyped e-mail and one
 * refresh re-mint while its real stdout sink runs at WARN. The stack's own metric filters over
 * the printed lines must count what `GET /api/v2/stats/migration` counts from the table.
 */
const SERVICE_NAME = `drain-${randomBytes(4).toString('hex')}`;
let capture: PrintedLogCapture;
let service: TestService;
let upstream: FakeUpstream;
let api: ReturnType<typeof managementApi>;
let token: string;

beforeAll(async () => {
  capture = capturePrintedLogLines(SERVICE_NAME, 'WARN');
  upstream = await startFakeUpstream();
  service = await startTestService({ sink: capture.sink, config: { bcryptCost: 4 } });
  await linkUpstream(service, upstream);
  const { source } = await addMigrationSource(service, upstream);
  api = managementApi(service);
  token = await api.token(service.credentials.machineClient);

  const { webClient, connection } = service.credentials;
  const login = (username: string, password: string) =>
    service.postForm('/oauth/token', {
      grant_type: PASSWORD_REALM_GRANT, realm: connection.name, username, password, scope: 'openid offline_access',
      client_id: webClient.client_id, client_secret: webClient.client_secret!,
    });
  const user = upstream.addUser({ email: `drained-${SERVICE_NAME}@example.com`, password: 'Upstream-password-1' });
  expect((await login(user.email, 'Upstream-password-1')).status).toBe(200);
  expect((await login(user.email, 'Upstream-password-1')).status).toBe(200); // local now: no attempt
  expect((await login(`typo-${SERVICE_NAME}@example.com`, 'Whatever-1')).status).toBe(403);
  const remintUser = upstream.addUser({ email: `remint-${SERVICE_NAME}@example.com`, password: 'Upstream-password-2' });
  const foreign = upstream.issueRefreshToken({ sub: remintUser.sub, client_id: source.credentials.client_id, scope: 'openid offline_access' });
  const remint = await service.postForm('/oauth/token', {
    grant_type: 'refresh_token', refresh_token: foreign, client_id: webClient.client_id, client_secret: webClient.client_secret!,
  });
  expect(remint.status).toBe(200);
});

afterAll(async () => {
  await service?.close();
  await upstream?.close();
  capture?.stop();
  removeTestAssemblies();
});

// Synthesized before the server starts: a synth while it runs would stall its keep-alive timers.
const { stack, template: synthesize } = buildTestStack();
const synthesized = synthesize();
const template = () => synthesized;
const deployedPattern = (metricName: string) => {
  const filter = Object.values(resourcesOfType(template(), 'AWS::Logs::MetricFilter')).find(
    (f) => (f.Properties!.MetricTransformations as Array<{ MetricName: string }>)[0].MetricName === metricName,
  );
  return compileJsonFilterPattern(filter!.Properties!.FilterPattern as string);
};
const today = () => new Date().toISOString().slice(0, 10);

describe('drain signal at LOG_LEVEL=WARN', () => {
  it('still prints every auth event and upstream call, and only those among INFO lines', () => {
    const info = capture.printed.map((raw) => JSON.parse(raw) as Record<string, unknown>).filter((l) => l.level === 'INFO');
    expect(info.length).toBeGreaterThan(0);
    expect(new Set(info.map((l) => l.message))).toEqual(new Set(['auth_event', 'upstream_call']));
  });

  it('a WARN sink drops other INFO lines (what LOG_LEVEL is for)', () => {
    const printed: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((chunk: string) => (printed.push(String(chunk)), true)) as typeof process.stdout.write;
    try {
      const sink = createStdoutSink('quiet', 'WARN');
      sink.info('login_csrf_rejected', {});
      sink.info('auth_event', { type: 'ss', migration: 'password_fallback', migration_outcome: 'migrated' });
    } finally {
      process.stdout.write = write;
    }
    expect(printed.map((raw) => JSON.parse(raw).message)).toEqual(['auth_event']);
  });

  it('the headline metric and the stats endpoint count the same upstream verifications, per path and outcome', async () => {
    const res = await api.call('GET', '/api/v2/stats/migration', { token });
    expect(res.status).toBe(200);
    const day = res.body.days.find((d: { date: string }) => d.date === today());
    const headline = capture.printed.filter(deployedPattern(authLogMetrics.upstreamVerifications.metricName));
    expect(headline).toHaveLength(2);
    expect(day.upstream_verifications).toBe(headline.length);
    expect(res.body.totals.upstream_verifications).toBe(headline.length);

    const byOutcome = authLogMetrics.migrationAttemptsByOutcome;
    const fromLines: Record<string, number> = {};
    for (const raw of capture.printed.filter(deployedPattern(byOutcome.metricName))) {
      const { path, outcome } = dimensionValuesOf(byOutcome.dimensions, raw);
      fromLines[`${path} ${outcome}`] = (fromLines[`${path} ${outcome}`] ?? 0) + 1;
    }
    const fromTable: Record<string, number> = {};
    for (const path of ['password_fallback', 'refresh_remint']) {
      for (const [outcome, n] of Object.entries(day[path] as Record<string, number>)) if (n > 0) fromTable[`${path} ${outcome}`] = n;
    }
    expect(fromTable).toEqual(fromLines);
    expect(fromTable).toEqual({
      'password_fallback migrated': 1,
      'password_fallback upstream_rejected': 1,
      'refresh_remint migrated': 1,
    });
    expect(res.body.days_since_last_upstream_verification).toBe(0);
    expect(res.body.last_upstream_verification.date.slice(0, 10)).toBe(today());
  });

  it('the dashboard headline and the "safe to switch off" alarm read that metric in the stack\'s namespace', () => {
    const [dashboard] = Object.values(resourcesOfType(template(), 'AWS::CloudWatch::Dashboard'));
    const body = JSON.parse(renderCfn(dashboard.Properties!.DashboardBody)) as { widgets: Array<{ properties: { title?: string; metrics?: unknown[] } }> };
    const headline = body.widgets.find((w) => w.properties.title?.startsWith('Successful upstream verifications per day'));
    expect(JSON.stringify(headline!.properties.metrics)).toContain(`["${stack.metricNamespace}","UpstreamVerifications"`);
    const alarm = resourcesOfType(template(), 'AWS::CloudWatch::Alarm')[stack.getLogicalId(stack.alarms.safeToSwitchOff.node.defaultChild as never)];
    expect(alarm.Properties).toMatchObject({
      Namespace: stack.metricNamespace,
      MetricName: 'UpstreamVerifications',
      Period: 86400,
      EvaluationPeriods: 7,
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      TreatMissingData: 'breaching',
    });
  });

  it('answers a bad date range with a Management API 400, not a 500', async () => {
    for (const query of ['from=2026-02-30', 'to=yesterday', 'from=2026-05-02&to=2026-05-01', 'from=2020-01-01&to=2026-01-01', 'days=3']) {
      const res = await api.call('GET', `/api/v2/stats/migration?${query}`, { token });
      expect({ query, status: res.status, error: res.body.errorCode }).toEqual({ query, status: 400, error: 'invalid_query_string' });
    }
  });
});
