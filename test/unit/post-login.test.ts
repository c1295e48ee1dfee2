import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { createLambdaPostLogin } from '../../lambdas/extensions/post-login-lambda.js';
import { PostLoginFailure, runActionHandler, runPostLogin, type PostLoginEvent } from '../../lambdas/extensions/post-login.js';

/** The post-login extension's contract: the Lambda adapter, the time budget, and fail-open / fail-closed. */
const lambda = mockClient(LambdaClient);
afterEach(() => lambda.reset());

const event = {
  tenant: { id: 't' },
  user: { user_id: 'auth0|u1', app_metadata: { plan: 'gold' }, user_metadata: {}, identities: [], created_at: '', updated_at: '', logins_count: 1 },
  client: { client_id: 'c', name: 'App' },
  connection: { id: 'con_1', name: 'db', strategy: 'auth0' },
  authorization: { roles: ['admin'] },
  request: { hostname: 'auth.example.com' },
  transaction: { requested_scopes: ['openid'], protocol: 'password' },
  stats: { logins_count: 1 },
} satisfies PostLoginEvent;

const closed = { timeoutMs: 200, failureMode: 'closed' as const };
const open = { timeoutMs: 200, failureMode: 'open' as const };

describe('Lambda post-login', () => {
  it('invokes the named function synchronously with the event and returns its answer', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: new TextEncoder().encode(JSON.stringify({ access_token_claims: { 'https://a.example/plan': 'gold' } })) as never });
    const ext = createLambdaPostLogin(new LambdaClient({ region: 'eu-west-1' }), 'tenant-claims');
    const result = await runPostLogin(ext, event, closed, () => {});
    expect(result).toEqual({ access_token_claims: { 'https://a.example/plan': 'gold' } });
    const call = lambda.commandCalls(InvokeCommand)[0].args[0].input;
    expect(call).toMatchObject({ FunctionName: 'tenant-claims', InvocationType: 'RequestResponse' });
    expect(JSON.parse(new TextDecoder().decode(call.Payload as Uint8Array))).toEqual(event);
  });

  it('a function error fails closed, or open with no claims; both are reported', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, FunctionError: 'Unhandled', Payload: new TextEncoder().encode('{"errorMessage":"boom"}') as never });
    const ext = createLambdaPostLogin(new LambdaClient({ region: 'eu-west-1' }), 'tenant-claims');
    const reasons: string[] = [];
    await expect(runPostLogin(ext, event, closed, (r) => reasons.push(r))).rejects.toBeInstanceOf(PostLoginFailure);
    expect(await runPostLogin(ext, event, open, (r) => reasons.push(r))).toEqual({});
    expect(reasons).toEqual(['function_error', 'function_error']);
  });

  it('an invocation over its time budget is aborted and fails', async () => {
    let aborted = false;
    const ext = (_e: PostLoginEvent, signal: AbortSignal) =>
      new Promise<never>((_, reject) => signal.addEventListener('abort', () => ((aborted = true), reject(new Error('aborted')))));
    const reasons: string[] = [];
    await expect(runPostLogin(ext, event, { ...closed, timeoutMs: 20 }, (r) => reasons.push(r))).rejects.toMatchObject({ reason: 'timeout' });
    expect(aborted).toBe(true);
    expect(await runPostLogin(ext, event, { ...open, timeoutMs: 20 }, (r) => reasons.push(r))).toEqual({});
    expect(reasons).toEqual(['timeout', 'timeout']);
  });

  it('an answer of the wrong shape is a failure, not claims', async () => {
    for (const answer of ['"text"', '{"access_token_claims":[1]}', '{"deny":5}', '{"extra":1}', 'not json']) {
      lambda.reset();
      lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: new TextEncoder().encode(answer) as never });
      const ext = createLambdaPostLogin(new LambdaClient({ region: 'eu-west-1' }), 'f');
      await expect(runPostLogin(ext, event, closed, () => {}), answer).rejects.toMatchObject({ reason: 'invalid_result' });
    }
  });
});

describe('Actions-style handlers', () => {
  it('collect setCustomClaim and deny calls into the result', async () => {
    const result = await runActionHandler((e, api) => {
      api.accessToken.setCustomClaim('https://a.example/roles', e.authorization.roles);
      api.idToken.setCustomClaim('https://a.example/plan', e.user.app_metadata.plan);
      api.access.deny('first').access.deny('second');
    }, event);
    expect(result).toEqual({ access_token_claims: { 'https://a.example/roles': ['admin'] }, id_token_claims: { 'https://a.example/plan': 'gold' }, deny: 'first' });
  });
});
