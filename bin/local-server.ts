import { resolve } from 'node:path';
import { serviceConfigFromEnv } from '../lambdas/deps.js';
import { LocalServerStartError, startLocalServer, type LocalServer } from './local/server.js';

/**
 * `npm start`: the service on http://127.0.0.1:3000 (PORT to change), data kept in ./.data
 * (DATA_DIR to change), a seeded dev tenant whose credentials are printed. Ctrl-C stops it.
 */

const port = Number(process.env.PORT ?? 3000);
const dataDir = resolve(process.env.DATA_DIR ?? '.data');
// POST_LOGIN_MODULE (and its budget and failure mode) names a local post-login extension.
const { postLogin } = serviceConfigFromEnv();
let server: LocalServer;
try {
  server = await startLocalServer({ port, dataDir, ...(postLogin ? { config: { postLogin } } : {}) });
} catch (err) {
  const message = err instanceof LocalServerStartError ? err.message : `${(err as Error)?.name ?? 'Error'}: ${(err as Error)?.message ?? err}`;
  process.stderr.write(`npm start: ${message.split('\n')[0]}\n`);
  process.exit(1);
}
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  process.stdout.write('\nstopping...\n');
  await server.close();
  process.stdout.write(`stopped; data kept in ${dataDir}\n`);
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

const c = server.credentials;
const u = server.url;
process.stdout.write(`
Auth0-compatible token service running at ${u}  (data: ${dataDir})
Mail outbox (.eml files): ${server.outbox.dir}

  Tenant:             ${c.tenant}
  Connection:         ${c.connection.name} (${c.connection.id})
  Web client:         client_id=${c.webClient.client_id}
                      client_secret=${c.webClient.client_secret}
  SPA client:         client_id=${c.spaClient.client_id}
  Management client:  client_id=${c.machineClient.client_id}
                      client_secret=${c.machineClient.client_secret}
  Demo user:          ${c.demoUser.email} / ${c.demoUser.password}

Try:
  curl -s ${u}/oauth/token -H 'content-type: application/json' -d '{"grant_type":"password","username":"${c.demoUser.email}","password":"${c.demoUser.password}","client_id":"${c.webClient.client_id}","client_secret":"${c.webClient.client_secret}","scope":"openid profile email offline_access"}'

Ctrl-C stops the server.
`);
