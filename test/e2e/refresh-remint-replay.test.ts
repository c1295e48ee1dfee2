import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { startTestService, type TestService } from '../support/local-service.js';
import { authEvents, upstreamSessions } from '../support/migration-source.js';

/**
 * The upstream refresh token is redeemed once: replays within the client's leeway join the
 * family the re-mint started, replays after it are reuse (`ferrt`), and concurrent requests
 * with one upstream token make one upstream redemption and one local user.
 */
let service: TestService;
let upstream: FakeUpstream;
let skewMs = 0;
const sessions = upstreamSessions(() => service, () => upstream, 'rp');
const upstreamSession = sessions.create;

beforeAll(async () => {
  [service, upstream] = await Promise.all([startTestService({ now: () => Date.now() + skewMs }), startFakeUpstream()]);
});
afterAll(async () => {
  await Promise.all([service?.close(), upstream?.close()]);
});
afterEach(() => sessions.cleanup());

/** The SPA client is public with leeway 30 s; the web client is confidential with leeway 0. */
function refreshAs(kind: 'spa' | 'web', refreshToken: string) {
  const c = service.credentials;
  const client: Record<string, string> =
    kind === 'spa' ? { client_id: c.spaClient.client_id } : { client_id: c.webClient.client_id, client_secret: c.webClient.client_secret };
  return service.postForm('/oauth/token', { grant_type: 'refresh_token', refresh_token: refreshToken, ...client });
}

const familyOf = (refreshToken: string) => refreshToken.split('.')[1];

describe('re-mint replays and concurrency', () => {
  it('a replay within the leeway gets tokens of the same new family; after the leeway it is ferrt and the family is revoked', async () => {
    const { token } = await upstreamSession();
    const first = await refreshAs('spa', token);
    expect(first.status).toBe(200);

    const replay = await refreshAs('spa', token);
    expect(replay.status).toBe(200);
    expect(familyOf(replay.body.refresh_token)).toBe(familyOf(first.body.refresh_token));
    expect(replay.body.refresh_token).not.toBe(first.body.refresh_token);
    expect(upstream.requestsTo('token')).toHaveLength(1);

    skewMs += 31_000;
    const before = service.logLines.length;
    const late = await refreshAs('spa', token);
    expect(late.status).toBe(403);
    expect(late.body).toEqual({ error: 'invalid_grant', error_description: 'Unknown or invalid refresh token.' });
    expect(authEvents(service.logLines.slice(before)).map((e) => [e.type, e.reason])).toContainEqual(['ferrt', 'reuse_detected']);
    expect(upstream.requestsTo('token')).toHaveLength(1);
    // Reuse revokes the family: the tokens handed out before stop working.
    expect((await refreshAs('spa', replay.body.refresh_token)).status).toBe(403);
  });

  it('within the leeway, once the re-minted token has been used, a replay of the upstream token is reuse: ferrt, family revoked', async () => {
    const { token } = await upstreamSession();
    const first = await refreshAs('spa', token);
    expect(first.status).toBe(200);
    const next = await refreshAs('spa', first.body.refresh_token);
    expect(next.status).toBe(200);

    const before = service.logLines.length;
    const replay = await refreshAs('spa', token);
    expect(replay.status).toBe(403);
    expect(replay.body).toEqual({ error: 'invalid_grant', error_description: 'Unknown or invalid refresh token.' });
    expect(service.logLines.slice(before).some((l) => l.includes('"type":"ferrt"') && l.includes('reuse_detected'))).toBe(true);
    expect((await refreshAs('spa', next.body.refresh_token)).status).toBe(403);
    expect(upstream.requestsTo('token')).toHaveLength(1);
  });

  it('a client with leeway 0: any replay after the re-mint is reuse (ferrt), with no upstream call', async () => {
    const { token } = await upstreamSession();
    expect((await refreshAs('web', token)).status).toBe(200);
    const before = service.logLines.length;
    const replay = await refreshAs('web', token);
    expect(replay.status).toBe(403);
    expect(authEvents(service.logLines.slice(before))[0]).toMatchObject({ type: 'ferrt', reason: 'reuse_detected' });
    expect(upstream.requestsTo('token')).toHaveLength(1);
  });

  it('20 concurrent requests with one upstream token (leeway 30): one upstream redemption, one user created, all 20 get tokens of one family', async () => {
    const { user, token } = await upstreamSession();
    upstream.setLatency(30);
    const before = service.logLines.length;
    const results = await Promise.all(Array.from({ length: 20 }, () => refreshAs('spa', token)));

    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(new Set(results.map((r) => familyOf(r.body.refresh_token))).size).toBe(1);
    expect(new Set(results.map((r) => r.body.refresh_token)).size).toBe(20);
    expect(upstream.requestsTo('token')).toHaveLength(1);
    expect(upstream.requestsTo('userinfo')).toHaveLength(1);
    const successes = authEvents(service.logLines.slice(before)).filter((e) => e.type === 'sertft');
    expect(successes).toHaveLength(20);
    expect(successes.filter((e) => e.details?.user_created === true)).toHaveLength(1);
    expect(successes.every((e) => e.user_id === user.sub)).toBe(true);
  });

  it('20 concurrent requests on a leeway-0 client: one gets tokens, the others invalid_grant, and the winner keeps a working family', async () => {
    const { token } = await upstreamSession();
    upstream.setLatency(30);
    const results = await Promise.all(Array.from({ length: 20 }, () => refreshAs('web', token)));

    const winners = results.filter((r) => r.status === 200);
    expect(winners).toHaveLength(1);
    expect(results.filter((r) => r.status === 403 && r.body.error === 'invalid_grant')).toHaveLength(19);
    expect(upstream.requestsTo('token')).toHaveLength(1);
    upstream.setLatency(0);
    expect((await refreshAs('web', winners[0].body.refresh_token)).status).toBe(200);
  });
});
