import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { correlateRequests, createStdoutSink } from '../../lambdas/logs/log-sink.js';

const lambdaContext = (awsRequestId: string) =>
  ({
    awsRequestId,
    functionName: 'Auth0Migration-TokenFunction',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:Auth0Migration-TokenFunction',
    memoryLimitInMB: '1024',
  }) as unknown as Context;

function printedBy(run: () => Promise<void>): Promise<Array<Record<string, unknown>>> {
  const printed: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string) => (printed.push(String(chunk)), true)) as typeof process.stdout.write;
  return run()
    .finally(() => {
      process.stdout.write = write;
    })
    .then(() => printed.join('').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>));
}

describe('correlateRequests', () => {
  it('gives every line of an invocation its Lambda context and the API Gateway request id, and only that invocation', async () => {
    const sink = createStdoutSink('auth0-migration-token', 'INFO');
    const handler = correlateRequests(sink, async (event: { requestContext: { requestId: string } }) => {
      sink.info('auth_event', { type: 's', request: event.requestContext.requestId });
    });
    const lines = await printedBy(async () => {
      await handler({ requestContext: { requestId: 'Req-first' } }, lambdaContext('aws-1'));
      await handler({ requestContext: { requestId: 'Req-second' } }, lambdaContext('aws-2'));
    });
    expect(lines).toHaveLength(2);
    // cold_start is per process (true only for the first invocation a process serves).
    expect(lines[0]).toMatchObject({ correlation_id: 'Req-first', function_request_id: 'aws-1', cold_start: expect.any(Boolean), function_name: 'Auth0Migration-TokenFunction' });
    expect(lines[1]).toMatchObject({ correlation_id: 'Req-second', function_request_id: 'aws-2', cold_start: false });
  });
});

describe('migrationAttemptOf', () => {
  it('classifies refusals after the upstream verified the user as verified_not_migrated, and unbound clients as not_called', async () => {
    const { migrationAttemptOf } = await import('../../lambdas/logs/migration-outcome.js');
    expect(migrationAttemptOf({ type: 'fp', migration: 'password_fallback', reason: 'upstream_mismatch', connection: 'UPA' })?.migration_outcome).toBe('verified_not_migrated');
    expect(migrationAttemptOf({ type: 'fertft', migration: 'refresh_remint', reason: 'upstream_mismatch' })?.migration_outcome).toBe('verified_not_migrated');
    expect(migrationAttemptOf({ type: 'fertft', migration: 'refresh_remint', reason: 'client_not_bound_to_source' })?.migration_outcome).toBe('not_called');
    expect(migrationAttemptOf({ type: 'fp', migration: 'password_fallback', reason: 'upstream_rejected:invalid_grant' })?.migration_outcome).toBe('upstream_rejected');
    expect(migrationAttemptOf({ type: 's', migration: 'password_fallback' })).toBeUndefined();
  });
});
