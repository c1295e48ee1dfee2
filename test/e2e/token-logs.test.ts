import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../lambdas/store/keys.js';
import { shardCounts } from '../../lambdas/store/shards.js';
import { startTestService, type TestService } from '../support/local-service.js';

/**
 * Every auth event is one JSON line with its Auth0 code, stored in the table too, and no line
 * carries a password, a refresh or access token, or a client secret used here.
 */
let service: TestService;
const secretsUsed = new Set<string>();
let scenarioStart = 0;

function use(value: string) {
  secretsUsed.add(value);
  return value;
}

beforeAll(async () => {
  service = await startTestService();
  const c = service.credentials;
  use(c.demoUser.password);
  use(c.webClient.client_secret);
  use(c.machineClient.client_secret);
  scenarioStart = service.logLines.length;
  const web = { client_id: c.webClient.client_id, client_secret: c.webClient.client_secret };
  const token = (form: Record<string, string>) => service.postForm('/oauth/token', form);
  const login = (password: string, username = c.demoUser.email) =>
    token({ grant_type: 'password', username, password, scope: 'openid offline_access', ...web });

  // s + sepft; the tokens it returns must never be logged.
  const ok = await login(c.demoUser.password);
  use(ok.body.refresh_token);
  use(ok.body.access_token);
  use(ok.body.id_token);
  // fp, fu, then limit_wc for a third strike on an unknown identifier.
  await login(use('Wrong-Password-1'));
  for (const pw of ['Unknown-Pw-1', 'Unknown-Pw-2', 'Unknown-Pw-3', 'Unknown-Pw-4']) await login(use(pw), 'ghost@example.com');
  // sertft, then ferrt when the rotated token is replayed.
  const rotated = await token({ grant_type: 'refresh_token', refresh_token: ok.body.refresh_token, ...web });
  use(rotated.body.refresh_token);
  await token({ grant_type: 'refresh_token', refresh_token: ok.body.refresh_token, ...web });
  // fertft for a garbage token.
  await token({ grant_type: 'refresh_token', refresh_token: use('some-garbage-refresh-token-value'), ...web });
  // seccft and feccft.
  const m = c.machineClient;
  await token({ grant_type: 'client_credentials', client_id: m.client_id, client_secret: m.client_secret, audience: `${service.url}/api/v2/` });
  await token({ grant_type: 'client_credentials', client_id: m.client_id, client_secret: m.client_secret, audience: 'https://nope.example/' });
  // A wrong client secret on each grant is a failed exchange of that grant.
  await token({ grant_type: 'client_credentials', client_id: m.client_id, client_secret: use('wrong-machine-secret-value') });
  await token({ grant_type: 'password', username: c.demoUser.email, password: c.demoUser.password, client_id: web.client_id, client_secret: use('wrong-web-secret-value') });
  await token({ grant_type: 'refresh_token', refresh_token: rotated.body.refresh_token, client_id: web.client_id, client_secret: 'wrong-web-secret-value' });
  // srrt.
  const second = await login(c.demoUser.password);
  use(second.body.refresh_token);
  await service.postForm('/oauth/revoke', { token: second.body.refresh_token, ...web });
});
afterAll(() => service?.close());

function authEvents() {
  return service.logLines.slice(scenarioStart).map((l) => JSON.parse(l)).filter((l) => l.message === 'auth_event');
}

describe('auth event logs', () => {
  it('each event is one JSON line with its Auth0 code, in the order the requests happened', () => {
    expect(authEvents().map((e) => e.type)).toEqual([
      's', 'sepft',
      'fp',
      'fu', 'fu', 'fu', 'limit_wc', 'limit_wc',
      'sertft', 'ferrt',
      'fertft',
      'seccft', 'feccft',
      'feccft', 'fepft', 'fertft',
      's', 'sepft', 'srrt',
    ]);
    for (const line of service.logLines) expect(line).not.toMatch(/\n/);
  });

  it('every event carries a log_id, a date, the tenant and a description', () => {
    for (const e of authEvents()) {
      expect(e).toEqual(expect.objectContaining({ log_id: expect.any(String), date: expect.any(String), tenant: service.credentials.tenant, description: expect.any(String) }));
    }
  });

  it('a failed client authentication is logged with the client and reason, never the presented secret', () => {
    const failures = authEvents().filter((e) => e.reason === 'invalid_client');
    expect(failures.map((e) => e.type)).toEqual(['feccft', 'fepft', 'fertft']);
    expect(failures[0].client_id).toBe(service.credentials.machineClient.client_id);
  });

  it('no line contains a password, a token or a client secret used in the test', () => {
    const all = service.logLines.join('\n');
    for (const secret of secretsUsed) expect(all.includes(secret), `a log line contains ${secret.slice(0, 6)}…`).toBe(false);
    // Nor any of a token's parts (its secret part above all).
    for (const secret of secretsUsed) {
      for (const part of secret.split('.').filter((p) => p.length >= 40)) expect(all.includes(part)).toBe(false);
    }
  });

  it('the events are stored in the table, one item per event', async () => {
    const day = authEvents()[0].date.slice(0, 10);
    const items = [];
    for (let shard = 0; shard < shardCounts.logs; shard++) {
      const res = await service.deps.db.send(
        new QueryCommand({ TableName: service.deps.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': keys.logDayShard(service.credentials.tenant, day, shard) } }),
      );
      items.push(...(res.Items ?? []));
    }
    const res = { Items: items };
    const stored = new Set((res.Items ?? []).map((i) => i.log_id));
    for (const e of authEvents()) expect(stored.has(e.log_id), `${e.type} stored`).toBe(true);
    const text = JSON.stringify(res.Items);
    for (const secret of secretsUsed) expect(text.includes(secret)).toBe(false);
  });
});
