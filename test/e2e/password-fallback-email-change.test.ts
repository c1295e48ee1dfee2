import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { linkUpstream, loginWithAuth0Client, setImportMode } from '../support/import-mode.js';
import { startTestService, type TestService } from '../support/local-service.js';
import { managementApi } from './management-helpers.js';

/**
 * Once a user has a local password the upstream is never asked again, even with the email the
 * user had before an operator changed it (the upstream still knows that one).
 */
let service: TestService;
let upstream: FakeUpstream;

beforeAll(async () => {
  [service, upstream] = await Promise.all([startTestService(), startFakeUpstream()]);
  await linkUpstream(service, upstream);
  await setImportMode(service, true);
});
afterAll(async () => {
  await Promise.all([service?.close(), upstream?.close()]);
});

describe('a migrated user whose email is changed through the Management API', () => {
  it('cannot log in with the old email, and that login never reaches the upstream; the new email works locally', async () => {
    const remote = upstream.addUser({ email: 'before@example.com', password: 'Upstream-pw-1' });
    expect((await loginWithAuth0Client(service, 'before@example.com', 'Upstream-pw-1')).status).toBe(200);

    const api = managementApi(service);
    const token = await api.token(service.credentials.machineClient);
    const patched = await api.call('PATCH', `/api/v2/users/${encodeURIComponent(remote.sub)}`, { token, body: { email: 'after@example.com' } });
    expect(patched.status).toBe(200);

    upstream.reset();
    const old = await loginWithAuth0Client(service, 'before@example.com', 'Upstream-pw-1');
    expect(old.status).toBe(403);
    expect(upstream.requests).toHaveLength(0);
    expect((await loginWithAuth0Client(service, 'after@example.com', 'Upstream-pw-1')).status).toBe(200);
    expect(upstream.requests).toHaveLength(0);

    // The retired email is free for another user.
    const other = await api.call('POST', '/api/v2/users', {
      token,
      body: { connection: service.credentials.connection.name, email: 'before@example.com', password: 'Another-pw-123' },
    });
    expect(other.status).toBe(201);
    expect((await loginWithAuth0Client(service, 'before@example.com', 'Another-pw-123')).status).toBe(200);
  });

  it('once that user is deleted, the old email is free again: a login with it migrates from the upstream', async () => {
    const remote = upstream.addUser({ email: 'gone@example.com', password: 'Upstream-pw-2' });
    expect((await loginWithAuth0Client(service, 'gone@example.com', 'Upstream-pw-2')).status).toBe(200);
    const api = managementApi(service);
    const token = await api.token(service.credentials.machineClient);
    const id = encodeURIComponent(remote.sub);
    expect((await api.call('PATCH', `/api/v2/users/${id}`, { token, body: { email: 'moved@example.com' } })).status).toBe(200);
    expect((await loginWithAuth0Client(service, 'gone@example.com', 'Upstream-pw-2')).status).toBe(403);
    expect((await api.call('DELETE', `/api/v2/users/${id}`, { token })).status).toBe(204);

    upstream.reset();
    const again = await loginWithAuth0Client(service, 'gone@example.com', 'Upstream-pw-2');
    expect(again.status).toBe(200);
    expect(upstream.requestsTo('token')).toHaveLength(1);
  });
});
