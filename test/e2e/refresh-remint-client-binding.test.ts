import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { startTestService, type TestService } from '../support/local-service.js';
import { authEvents, upstreamSessions } from '../support/migration-source.js';
import { managementApi } from './management-helpers.js';

/**
 * An upstream refresh token is redeemed only for the local client that stands for the upstream
 * application it was issued to: the source's own client_id (an imported app) or a client mapped
 * on the source, enabled on the source's connection, authenticated as its type requires. Any
 * other client gets 403 invalid_grant and the upstream is never called.
 */
let service: TestService;
let upstream: FakeUpstream;
const sessions = upstreamSessions(() => service, () => upstream, 'bind');

beforeAll(async () => {
  [service, upstream] = await Promise.all([startTestService(), startFakeUpstream()]);
});
afterAll(async () => {
  await Promise.all([service?.close(), upstream?.close()]);
});
afterEach(() => sessions.cleanup());

const refused = { status: 403, body: { error: 'invalid_grant', error_description: 'Unknown or invalid refresh token.' } };

/** A source for the upstream application `clientId`, mapped to `clientIds`, and a session of it. */
const session = (opts: { clientId?: string; clientIds?: string[] }) => sessions.create({ source: { clientId: opts.clientId, clientIds: opts.clientIds ?? [] } });

async function redeem(token: string, as: 'web' | 'web-no-secret' | 'spa') {
  const c = service.credentials;
  const client: Record<string, string> =
    as === 'spa' ? { client_id: c.spaClient.client_id } : as === 'web' ? { client_id: c.webClient.client_id, client_secret: c.webClient.client_secret } : { client_id: c.webClient.client_id };
  const res = await service.postForm('/oauth/token', { grant_type: 'refresh_token', refresh_token: token, ...client });
  return { status: res.status, body: res.body };
}

const upstreamTokenCalls = () => upstream.requestsTo('token').length;

describe('re-mint is bound to the client of the upstream application', () => {
  it("the source's own client (same client_id, with its secret) gets tokens; the public SPA client is refused and never reaches the upstream", async () => {
    const { token } = await session({ clientId: service.credentials.webClient.client_id });
    expect(await redeem(token, 'spa')).toEqual(refused);
    expect(upstreamTokenCalls()).toBe(0);
    expect(authEvents(service.logLines).at(-1)).toMatchObject({ type: 'fertft', reason: 'client_not_bound_to_source' });
    expect((await redeem(token, 'web-no-secret')).status).toBe(401);
    expect(upstreamTokenCalls()).toBe(0);
    expect((await redeem(token, 'web')).status).toBe(200);
  });

  it('a client that is neither the source’s nor mapped on it is refused (403 invalid_grant, no upstream call)', async () => {
    const { token } = await session({});
    expect(await redeem(token, 'web')).toEqual(refused);
    expect(upstreamTokenCalls()).toBe(0);
  });

  it('a mapped client is served; once it is no longer enabled on the connection it is refused', async () => {
    const spa = service.credentials.spaClient.client_id;
    const first = await session({ clientIds: [spa] });
    expect((await redeem(first.token, 'spa')).status).toBe(200);

    const second = await session({ clientIds: [spa] });
    const { tenant, connection } = service.credentials;
    const record = (await service.deps.tenantConfigs.load(tenant))!.connections.get(connection.id)!;
    await service.deps.tenantConfigs.putConnection(tenant, { ...record, enabled_clients: record.enabled_clients.filter((id) => id !== spa) });
    service.deps.tenantConfigCache.invalidate(tenant);
    try {
      const calls = upstreamTokenCalls();
      expect(await redeem(second.token, 'spa')).toEqual(refused);
      expect(upstreamTokenCalls()).toBe(calls);
    } finally {
      await service.deps.tenantConfigs.putConnection(tenant, record);
      service.deps.tenantConfigCache.invalidate(tenant);
    }
  });

  it('the Management API keeps client_ids on a source and refuses ids of clients the tenant does not have', async () => {
    const api = managementApi(service);
    const token = await api.token(service.credentials.machineClient);
    const body = {
      name: 'Mapped source',
      provider: 'auth0',
      connection: service.credentials.connection.name,
      credentials: { domain: upstream.domain, client_id: 'upstream-app', client_secret: 'a-long-enough-secret' },
      client_ids: [service.credentials.spaClient.client_id],
    };
    const ok = await api.call('POST', '/api/v2/migration-sources', { token, body });
    expect(ok.status).toBe(201);
    expect(ok.body.client_ids).toEqual([service.credentials.spaClient.client_id]);
    const bad = await api.call('POST', '/api/v2/migration-sources', { token, body: { ...body, client_ids: ['NoSuchClient'] } });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ errorCode: 'invalid_body' });
    await api.call('DELETE', `/api/v2/migration-sources/${ok.body.id}`, { token });
  });
});
