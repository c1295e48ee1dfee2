import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { managementApi } from '../e2e/management-helpers.js';
import { startTestService, type TestService } from '../support/local-service.js';

/**
 * Pre-registration hooks share one time budget (`hookBudgetMs`): a hook allowed 10 s on its
 * own is cut off when the hooks before it used the budget up, so a chain of slow hooks cannot
 * outlast the function. The creation then fails closed, like any hook that cannot answer.
 */
const UPA = 'Username-Password-Authentication';
const HOOK_DELAY_MS = 1500;
let service: TestService;
let api: ReturnType<typeof managementApi>;
let token: string;
let receiver: Server;
const answered: string[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      // Every hook answers yes, but only after HOOK_DELAY_MS: within its own 10 s timeout.
      setTimeout(() => {
        answered.push(req.url ?? '/');
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ allow: true }));
      }, HOOK_DELAY_MS);
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', () => resolve()));
  // Budget below two hook delays: the first hook fits, the second cannot.
  service = await startTestService({ config: { bcryptCost: 4, hookBudgetMs: HOOK_DELAY_MS + 1000 } });
  api = managementApi(service);
  token = await api.token(service.credentials.machineClient);
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  for (const path of ['/first', '/second']) {
    const res = await api.call('POST', '/api/v2/hooks', {
      token,
      body: { name: path, trigger: 'pre-user-registration', url: `${url}${path}`, secret: 'hook-secret-budget-1', timeout_ms: 10000 },
    });
    expect(res.status).toBe(201);
  }
});
afterAll(async () => {
  await service?.close();
  await new Promise<void>((resolve) => receiver?.close(() => resolve()));
});

describe('registration hook budget', () => {
  it('cuts the second slow pre hook off at the shared budget and refuses the creation (fail closed)', async () => {
    const res = await api.call('POST', '/api/v2/users', { token, body: { connection: UPA, email: 'budget@example.com', password: 'Long-enough-pass-1' } });
    expect(res.status).toBe(400);
    expect(res.body.errorCode).toBe('registration_denied');
    expect(answered).toEqual(['/first']);
    const failures = service.logLines.map((l) => JSON.parse(l)).filter((l) => l.message === 'registration_hook_failed');
    expect(failures).toHaveLength(1);
    expect(['timeout', 'budget_exhausted']).toContain(failures[0].reason);
    const found = await api.call('GET', `/api/v2/users-by-email?email=${encodeURIComponent('budget@example.com')}`, { token });
    expect(found.body).toEqual([]);
  });
});
