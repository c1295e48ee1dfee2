import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../support/local-service.js';
import { managementApi } from './management-helpers.js';

/**
 * Login statistics live apart from the indexed user item (a login writes no index), yet the
 * Management API shows them as before, and listing, paging and search answer as before.
 */
let service: TestService;
let api: ReturnType<typeof managementApi>;
let token: string;
const PASSWORD = 'Listing-password-1';
const ids: string[] = [];

beforeAll(async () => {
  service = await startTestService();
  api = managementApi(service);
  token = await api.token(service.credentials.machineClient);
  for (let i = 0; i < 24; i++) {
    const res = await api.call('POST', '/api/v2/users', {
      token,
      body: { connection: service.credentials.connection.name, email: `lister${String(i).padStart(2, '0')}@example.com`, password: PASSWORD },
    });
    expect(res.status).toBe(201);
    ids.push(res.body.user_id);
  }
});
afterAll(() => service?.close());

async function login(email: string) {
  const { webClient } = service.credentials;
  const res = await service.postForm('/oauth/token', {
    grant_type: 'password', username: email, password: PASSWORD, client_id: webClient.client_id, client_secret: webClient.client_secret,
  });
  expect(res.status).toBe(200);
}

describe('users with their login statistics', () => {
  it('GET /users/{id}, users-by-email and the listing show logins_count and last_login after logins', async () => {
    await login('lister03@example.com');
    await login('lister03@example.com');
    await login('lister05@example.com');
    const one = await api.call('GET', `/api/v2/users/${encodeURIComponent(ids[3])}`, { token });
    expect(one.body).toMatchObject({ logins_count: 2, last_ip: '127.0.0.1' });
    expect(Date.parse(one.body.last_login)).toBeGreaterThan(0);
    const byEmail = await api.call('GET', `/api/v2/users-by-email?email=lister05@example.com`, { token });
    expect(byEmail.body.map((u: { logins_count: number }) => u.logins_count)).toEqual([1]);
    const search = await api.call('GET', `/api/v2/users?q=${encodeURIComponent('email:lister0*')}&per_page=50`, { token });
    const counts = Object.fromEntries(search.body.map((u: { email: string; logins_count: number }) => [u.email, u.logins_count]));
    expect(counts).toMatchObject({ 'lister03@example.com': 2, 'lister05@example.com': 1, 'lister04@example.com': 0 });
  });

  it('sorts on logins_count over every match, not only one page', async () => {
    const res = await api.call('GET', `/api/v2/users?q=${encodeURIComponent('email:lister*')}&sort=logins_count:-1&per_page=2`, { token });
    expect(res.body.map((u: { email: string }) => u.email)).toEqual(['lister03@example.com', 'lister05@example.com']);
  });

  it('pages through the listing: every user once, in user_id order', async () => {
    const seen: string[] = [];
    for (let page = 0; page < 5; page++) {
      const res = await api.call('GET', `/api/v2/users?q=${encodeURIComponent('email:lister*')}&per_page=7&page=${page}&include_totals=true`, { token });
      expect(res.body.total).toBe(24);
      seen.push(...res.body.users.map((u: { user_id: string }) => u.user_id));
    }
    expect(seen).toEqual([...ids].sort());
  });
});
