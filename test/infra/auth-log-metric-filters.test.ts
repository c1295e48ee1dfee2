import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { authLogMetrics, metricNamespace, type AuthLogMetricKey } from '../../lib/auth-log-metrics.js';
import { createStdoutSink } from '../../lambdas/logs/log-sink.js';
import { compileJsonFilterPattern, dimensionValuesOf, metricValueOf } from './support/json-filter-pattern.js';
import { buildTestStack, removeTestAssemblies, resourcesOfType } from './support/test-stack.js';

afterAll(removeTestAssemblies);

/** Every line of every fixture file (sample lines and lines captured from the handlers). */
const fixtureDir = new URL('./fixtures/', import.meta.url);
const fixtureLines = readdirSync(fixtureDir)
  .filter((name) => name.endsWith('.jsonl'))
  .flatMap((name) => readFileSync(new URL(name, fixtureDir), 'utf8').split('\n'))
  .filter((line) => line.trim() !== '');

type Fields = Record<string, unknown>;
const parse = (line: string): Fields | undefined => {
  try {
    const value = JSON.parse(line) as unknown;
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Fields) : undefined;
  } catch {
    return undefined;
  }
};
const isAuthEvent = (e: Fields) => e.message === 'auth_event';
const isUpstreamCall = (e: Fields) => e.message === 'upstream_call';
/** The upstream was asked and could not answer: not a wrong password, not an open breaker. */
const isUpstreamFallbackFailure = (e: Fields) =>
  isAuthEvent(e) && e.migration === 'password_fallback' && e.migration_outcome === 'upstream_unavailable';
const isMigrationAttempt = (e: Fields) => isAuthEvent(e) && typeof e.migration_outcome === 'string';

/** What each metric is meant to count, written as plain code over the parsed line. */
const intendedMatch: Record<AuthLogMetricKey, (e: Fields) => boolean> = {
  upstreamVerifications: (e) =>
    isAuthEvent(e) && (e.migration_outcome === 'migrated' || e.migration_outcome === 'verified_not_migrated'),
  migrationAttempts: isMigrationAttempt,
  migrationAttemptsByOutcome: isMigrationAttempt,
  failedRefreshExchanges: (e) => isAuthEvent(e) && e.type === 'fertft',
  refreshExchanges: (e) => isAuthEvent(e) && (e.type === 'fertft' || e.type === 'sertft'),
  upstreamFallbackFailures: isUpstreamFallbackFailure,
  upstreamFallbackFailuresByReason: isUpstreamFallbackFailure,
  migrations: (e) =>
    isAuthEvent(e) &&
    ((e.type === 's' && (e.migration === 'password_fallback' || e.migration === 'social')) ||
      (e.type === 'sertft' && e.migration === 'refresh_remint') ||
      (e.type === 'scp' && e.migration === 'password_reset')),
  lockouts: (e) => isAuthEvent(e) && e.type === 'limit_wc' && e.reason === 'max_attempts_reached',
  storeOverloads: (e) => e.message === 'store_overloaded',
  upstreamCalls: isUpstreamCall,
  upstreamCallsByKind: isUpstreamCall,
  upstreamCallErrors: (e) => isUpstreamCall(e) && (e.outcome === 'rate_limited' || e.outcome === 'unavailable'),
  upstreamLatency: (e) => isUpstreamCall(e) && typeof e.latency_ms === 'number' && e.latency_ms >= 0,
};

const metricKeys = Object.keys(authLogMetrics) as AuthLogMetricKey[];
const matchingLines = (key: AuthLogMetricKey) =>
  fixtureLines.filter(compileJsonFilterPattern(authLogMetrics[key].filterPattern));

describe('metric filter patterns against the handlers\' JSON log lines', () => {
  it.each(metricKeys)('%s matches exactly the lines it is meant to count', (key) => {
    const matches = compileJsonFilterPattern(authLogMetrics[key].filterPattern);
    for (const line of fixtureLines) {
      const fields = parse(line);
      expect({ line, matched: matches(line) }).toEqual({ line, matched: fields ? intendedMatch[key](fields) : false });
    }
  });

  it.each(metricKeys)('%s has fixture lines on both sides (some match, some do not)', (key) => {
    const count = matchingLines(key).length;
    expect(count).toBeGreaterThan(0);
    expect(count).toBeLessThan(fixtureLines.length);
  });

  it('counts successful migrations once per path and never plain local logins', () => {
    const paths = matchingLines('migrations').map((line) => dimensionValuesOf(authLogMetrics.migrations.dimensions, line).path);
    expect(paths.sort()).toEqual(['password_fallback', 'password_reset', 'refresh_remint', 'social']);
  });

  it('splits upstream password-fallback failures by their upstream reason', () => {
    const reasons = matchingLines('upstreamFallbackFailuresByReason').map(
      (line) => dimensionValuesOf(authLogMetrics.upstreamFallbackFailuresByReason.dimensions, line).reason,
    );
    expect(reasons.sort()).toEqual(['upstream_rate_limited', 'upstream_server_error', 'upstream_timeout']);
  });

  it('splits migration attempts by path, outcome and connection or source, one line per attempt', () => {
    const dims = matchingLines('migrationAttempts').map((line) => {
      const { path, outcome, source } = dimensionValuesOf(authLogMetrics.migrationAttempts.dimensions, line);
      return `${path} ${outcome} ${source}`;
    });
    expect(dims.sort()).toEqual([
      'password_fallback migrated Username-Password-Authentication',
      'password_fallback not_called Username-Password-Authentication',
      'password_fallback upstream_rejected Username-Password-Authentication',
      'password_fallback upstream_unavailable Username-Password-Authentication',
      'password_fallback upstream_unavailable Username-Password-Authentication',
      'password_fallback upstream_unavailable Username-Password-Authentication',
      'password_fallback verified_not_migrated Username-Password-Authentication',
      'refresh_remint migrated none',
      'refresh_remint upstream_rejected none',
    ]);
  });

  it('counts as upstream verifications neither wrong passwords nor calls never made', () => {
    const outcomes = matchingLines('upstreamVerifications').map((line) => (JSON.parse(line) as Fields).migration_outcome);
    expect(outcomes.sort()).toEqual(['migrated', 'migrated', 'verified_not_migrated']);
  });

  it('publishes the measured latency of each upstream call as the latency value', () => {
    const values = matchingLines('upstreamLatency').map((line) => metricValueOf(authLogMetrics.upstreamLatency.metricValue, line));
    expect(values).toEqual(matchingLines('upstreamLatency').map((line) => (JSON.parse(line) as { latency_ms: number }).latency_ms));
    expect(values.every((v) => typeof v === 'number')).toBe(true);
  });

  it('matches a line as printed by the Powertools logger behind the handlers\' stdout sink', () => {
    const printed: string[] = [];
    const originalWrite = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array) => {
      printed.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    }) as typeof process.stdout.write;
    try {
      const sink = createStdoutSink('auth0-migration-token');
      sink.info('auth_event', { type: 'sertft', tenant: 'dev', client_id: 'c', user_id: 'auth0|1', migration: 'refresh_remint', migration_outcome: 'migrated' });
      sink.info('upstream_call', { call: 'refresh_token', breaker_key: 'dev/s', outcome: 'unavailable', reason: 'timeout', latency_ms: 4000 });
    } finally {
      process.stdout.write = originalWrite;
    }
    const lines = printed.join('').split('\n').filter((l) => l.trim() !== '');
    expect(lines).toHaveLength(2);
    const [authEvent, upstreamCall] = lines;
    expect(compileJsonFilterPattern(authLogMetrics.migrations.filterPattern)(authEvent)).toBe(true);
    expect(compileJsonFilterPattern(authLogMetrics.upstreamCallErrors.filterPattern)(upstreamCall)).toBe(true);
    expect(compileJsonFilterPattern(authLogMetrics.upstreamCallErrors.filterPattern)(authEvent)).toBe(false);
  });
});

describe('metric filters in the stack', () => {
  const { template } = buildTestStack();
  const filters = Object.values(resourcesOfType(template(), 'AWS::Logs::MetricFilter'));

  it.each(metricKeys)('%s is published from both function log groups with its pattern', (key) => {
    const definition = authLogMetrics[key];
    const deployed = filters.filter((f) => {
      const transformation = (f.Properties!.MetricTransformations as Array<Record<string, unknown>>)[0];
      return transformation.MetricName === definition.metricName && transformation.MetricNamespace === metricNamespace('Auth0Migration');
    });
    expect(deployed).toHaveLength(2);
    const logGroups = new Set(deployed.map((f) => JSON.stringify(f.Properties!.LogGroupName)));
    expect(logGroups.size).toBe(2);
    for (const filter of deployed) {
      expect(filter.Properties!.FilterPattern).toBe(definition.filterPattern);
      const transformation = (filter.Properties!.MetricTransformations as Array<Record<string, unknown>>)[0];
      expect(transformation.MetricValue).toBe(definition.metricValue);
      if ('dimensions' in definition) {
        expect(transformation.Dimensions).toEqual(
          Object.entries(definition.dimensions).map(([Key, Value]) => ({ Key, Value })),
        );
        expect(transformation.DefaultValue).toBeUndefined();
      }
    }
  });
});
