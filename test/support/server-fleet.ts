import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureTable } from '../../bin/local/embedded-engine.js';
import { seedDevTenant, type DevCredentials } from '../../bin/local/seed.js';
import type { LocalServer } from '../../bin/local/server.js';
import { createDeps, type Deps, type ServiceConfig } from '../../lambdas/deps.js';
import { createSilentSink } from '../../lambdas/logs/log-sink.js';
import { createLocalSecretStore } from '../../lambdas/secrets/local-secret-store.js';
import { createDocumentClient } from '../../lambdas/store/dynamo-client.js';
import { DEFAULT_TABLE_NAME } from '../../lambdas/store/table.js';
import type { BudgetCost } from '../../lambdas/store/upstream-budget-repository.js';

export interface FleetServerStats {
  count: number;
  byOperation: Record<string, number>;
  budget: BudgetCost;
}

export interface FleetServer {
  url: string;
  /** DynamoDB round trips this process made so far, and those of the upstream budget among them. */
  stats(): Promise<FleetServerStats>;
}

export interface Fleet {
  servers: FleetServer[];
  credentials: DevCredentials;
  /**
   * What the configuration helpers need (`addMigrationSource`, `linkUpstream`): deps on the shared
   * table and secret file. Its caches are this process's; the servers read the table within 5 s.
   */
  admin: LocalServer;
  close(): Promise<void>;
}

/**
 * Several local server processes sharing one engine and one secret file, standing in for Lambda
 * instances: the seeded dev tenant is created here before they start, so they all serve it.
 */
export async function startServerFleet(p: { engineEndpoint: string; size: number; config?: Partial<ServiceConfig> }): Promise<Fleet> {
  const dataDir = mkdtempSync(join(tmpdir(), 'fleet-'));
  await ensureTable(p.engineEndpoint, DEFAULT_TABLE_NAME);
  const db = createDocumentClient({ endpoint: p.engineEndpoint });
  const deps: Deps = createDeps({
    db,
    tableName: DEFAULT_TABLE_NAME,
    secrets: createLocalSecretStore(join(dataDir, 'secrets.json')),
    sink: createSilentSink(),
    config: { allowLoopbackHttp: true, bcryptCost: 4, ...p.config },
  });
  const credentials = await seedDevTenant(deps, 'default');
  if (!credentials) throw new Error('the fleet needs a fresh table');
  writeFileSync(join(dataDir, 'dev-credentials.json'), JSON.stringify(credentials), { mode: 0o600 });

  const children: ChildProcess[] = [];
  const servers = await Promise.all(
    Array.from({ length: p.size }, async () => {
      const child = fork(fileURLToPath(new URL('./server-child.ts', import.meta.url)), [JSON.stringify({ dynamoEndpoint: p.engineEndpoint, dataDir, config: p.config })], {
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', process.env.FLEET_LOG ? 'inherit' : 'ignore', 'inherit', 'ipc'],
        env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      });
      children.push(child);
      const url = await new Promise<string>((resolve, reject) => {
        const onMessage = (m: unknown) => {
          const msg = m as { url?: string };
          if (msg.url) {
            child.off('message', onMessage);
            resolve(msg.url);
          }
        };
        child.on('message', onMessage);
        child.once('exit', (code) => reject(new Error(`server process exited with ${code}`)));
      });
      const server: FleetServer = {
        url,
        stats: () =>
          new Promise((resolve) => {
            const onStats = (m: unknown) => {
              const msg = m as { stats?: FleetServerStats };
              if (msg.stats) {
                child.off('message', onStats);
                resolve(msg.stats);
              }
            };
            child.on('message', onStats);
            child.send({ stats: true });
          }),
      };
      return server;
    }),
  );
  const admin = { url: servers[0].url, port: 0, deps, credentials, close: async () => {} } as LocalServer;
  return {
    servers,
    credentials,
    admin,
    async close() {
      await Promise.all(
        children.map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null) return resolve();
              child.once('exit', () => resolve());
              child.kill('SIGTERM');
            }),
        ),
      );
      db.destroy();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
