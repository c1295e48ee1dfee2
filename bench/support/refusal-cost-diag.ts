import { startLocalServer } from '../../bin/local/server.js';
import { createSilentSink } from '../../lambdas/logs/log-sink.js';
import { createRoundTripCounter } from '../../lambdas/store/dynamo-client.js';
import { startFakeUpstream } from '../../test/support/fake-upstream.js';
import { addMigrationSource } from '../../test/support/migration-source.js';
import { startEngineProcess } from './engine-process.js';

const counter = createRoundTripCounter({ spans: true });
const engine = await startEngineProcess();
const upstream = await startFakeUpstream({ latencyMs: 20 });
const server = await startLocalServer({ counter, sink: createSilentSink(), config: { bcryptCost: 4 }, dynamoEndpoint: engine.endpoint });
const { clientId } = await addMigrationSource(server, upstream, { profile_from: 'id_token', requestsPerSecond: 1 });
const c = server.credentials;
const tok = (rt: string) => fetch(`${server.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: rt, client_id: c.webClient.client_id, client_secret: c.webClient.client_secret }) });
const rts = Array.from({ length: 6 }, (_, i) => upstream.issueRefreshToken({ sub: upstream.addUser({ email: `d${i}-${Date.now()}@example.com`, password: 'x-Password-1' }).sub, client_id: clientId, scope: 'openid profile email offline_access' }));
async function step(label: string, rt: string) {
  const before = { ...counter.byOperation };
  const n0 = counter.count;
  const spans0 = counter.spans!.length;
  const res = await tok(rt);
  await new Promise((r) => setTimeout(r, 300));
  const ops = Object.entries(counter.byOperation).map(([k, v]) => [k, v - (before[k] ?? 0)]).filter(([, v]) => Number(v) > 0);
  console.log(label, res.status, res.headers.get('retry-after'), counter.count - n0, JSON.stringify(ops), counter.spans!.slice(spans0).map((s) => `${s.op}:${(s.pk ?? '').replace(/TENANT#default#/, '').slice(0, 24)}`).join(' '));
  return res;
}
await step('first (served)', rts[0]);
await step('first (served)', rts[1]);
const refused = await step('refused newcomer', rts[2]);
await step('too early', rts[2]);
await step('refused newcomer 2', rts[3]);
const ra = Number(refused.headers.get('retry-after'));
await new Promise((r) => setTimeout(r, ra * 1000));
await step('back at its turn', rts[2]);
await server.close();
await upstream.close();
await engine.close();
