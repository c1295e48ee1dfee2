import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createManagementHandler } from '../../lambdas/handlers/create-management-handler.js';
import { createTokenHandler } from '../../lambdas/handlers/create-token-handler.js';
import { withMigrationFlows, withRegistrationHooks, type CompositionParts } from '../../lambdas/compose.js';
import { createDeps, type Deps, type ServiceConfig } from '../../lambdas/deps.js';
import { createInProcessJobs } from '../../lambdas/jobs/in-process-jobs.js';
import type { InProcessJobQueue } from '../../lambdas/jobs/job-queue.js';
import { createStdoutSink, type LogSink } from '../../lambdas/logs/log-sink.js';
import { createOutboxMailer, type OutboxMailer } from '../../lambdas/mail/outbox-mailer.js';
import { createLocalExportFiles } from '../../lambdas/jobs/local-export-files.js';
import { createLocalSecretStore } from '../../lambdas/secrets/local-secret-store.js';
import { createDocumentClient, type RoundTripCounter } from '../../lambdas/store/dynamo-client.js';
import { countPartitionKeysOfTable, type PartitionKeyCounter } from '../../lambdas/store/partition-key-counter.js';
import { DEFAULT_TABLE_NAME } from '../../lambdas/store/table.js';
import type { FunctionName } from '../../lambdas/routes.js';
import { apiGatewayListener, type LambdaHandler } from './api-gateway-adapter.js';
import { trackStoreRequestsInFlight } from './store-requests-in-flight.js';
import { ensureTable, startEmbeddedEngine } from './embedded-engine.js';
import { seedDevTenant, type DevCredentials } from './seed.js';

export interface LocalServerOptions {
  /** 0 picks a free port (tests). */
  port?: number;
  /** Persist the table and secrets here; in memory when absent. */
  dataDir?: string;
  tenant?: string;
  sink?: LogSink;
  config?: Partial<ServiceConfig>;
  fetch?: typeof fetch;
  now?: () => number;
  demoPassword?: string;
  /** Counts DynamoDB round trips (benchmarks). */
  counter?: RoundTripCounter;
  /** Counts DynamoDB requests per partition key (the hot-key check of tests and benches). */
  partitionKeys?: PartitionKeyCounter;
  /**
   * Use this DynamoDB-compatible endpoint (e.g. an engine in another process, as DynamoDB is a
   * separate service) instead of starting the embedded engine in this process.
   */
  dynamoEndpoint?: string;
  /**
   * `separate` (default): the token and management functions each have their own composition,
   * as in AWS; `one-composition`: they share one, so a management write is seen by the token
   * function at once (tests that are not about cache staleness).
   */
  functions?: 'separate' | 'one-composition';
  /** Also serve HTTPS with this key and certificate (for clients that only speak https). */
  tls?: { key: string; cert: string };
  /** Users a bulk-import batch imports at the same time (default 16). */
  importConcurrency?: number;
}

export interface LocalServer {
  url: string;
  port: number;
  /** The HTTPS origin when `tls` was given. */
  httpsUrl?: string;
  /** Mail the service sent, as `.eml` files (`<dataDir>/outbox`, or a temporary folder). */
  outbox: OutboxMailer;
  /** The token function's composition. */
  deps: Deps;
  /** The management function's composition (the token function's with `functions: 'one-composition'`). */
  managementDeps: Deps;
  /** The in-process job queue (bulk imports): `idle()` waits for the queued batches. */
  jobs: InProcessJobQueue;
  credentials: DevCredentials;
  close(): Promise<void>;
}

/** A start that failed for a reason the user can fix: its message is the one line to print. */
export class LocalServerStartError extends Error {
  override readonly name = 'LocalServerStartError';
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new LocalServerStartError(`port ${port} is already in use: stop what runs there, or set PORT`) : err),
    );
    server.listen(port, '127.0.0.1', () => resolve());
  });
}

/**
 * One server per data folder: the embedded engine's files allow a single process. Returns the
 * release function; a lock left by a process that is gone is taken over.
 */
function lockDataDir(dataDir: string): () => void {
  const lockFile = join(dataDir, 'server.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      return () => rmSync(lockFile, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readFileSync(lockFile, 'utf8'));
      if (holder && isRunning(holder)) {
        throw new LocalServerStartError(`${dataDir} is in use by another server (pid ${holder}): stop it, or set DATA_DIR to another folder`);
      }
      rmSync(lockFile, { force: true });
    }
  }
  throw new LocalServerStartError(`could not lock ${dataDir}`);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The local service: the same Lambda handlers behind node:http (API Gateway v2 events), on the
 * embedded engine and the local secret store, with a seeded dev tenant. Listens on 127.0.0.1.
 */
export async function startLocalServer(opts: LocalServerOptions = {}): Promise<LocalServer> {
  // The port first: a busy one fails before any data folder is created or seeded.
  const handlers: Partial<Record<FunctionName, LambdaHandler>> = {};
  const server: Server = createServer(apiGatewayListener(handlers));
  await listen(server, opts.port ?? 0);
  let releaseLock = () => {};
  try {
    if (opts.dataDir) {
      mkdirSync(opts.dataDir, { recursive: true });
      // The embedded engine's files allow one process; servers sharing an outside engine may share the folder.
      if (!opts.dynamoEndpoint) releaseLock = lockDataDir(opts.dataDir);
    }
    return await startOn(server, handlers, opts, releaseLock);
  } catch (err) {
    releaseLock();
    server.close();
    throw err;
  }
}

async function startOn(
  server: Server,
  handlers: Partial<Record<FunctionName, LambdaHandler>>,
  opts: LocalServerOptions,
  releaseLock: () => void,
): Promise<LocalServer> {
  const tenant = opts.tenant ?? 'default';
  const engine = opts.dynamoEndpoint
    ? { endpoint: opts.dynamoEndpoint, close: async () => {} }
    : await startEmbeddedEngine({ path: opts.dataDir ? join(opts.dataDir, 'dynamodb') : undefined });
  await ensureTable(engine.endpoint, DEFAULT_TABLE_NAME);
  const db = createDocumentClient({ endpoint: engine.endpoint, counter: opts.counter });
  const storeRequests = trackStoreRequestsInFlight(db);
  if (opts.partitionKeys) countPartitionKeysOfTable(db, opts.partitionKeys, { endpoint: engine.endpoint, tableName: DEFAULT_TABLE_NAME });
  const tempOutbox = opts.dataDir ? undefined : mkdtempSync(join(tmpdir(), 'auth-outbox-'));
  const outbox = createOutboxMailer({
    dir: tempOutbox ?? join(opts.dataDir as string, 'outbox'),
    from: 'no-reply@localhost',
    now: opts.now,
  });
  const secrets = createLocalSecretStore(opts.dataDir ? join(opts.dataDir, 'secrets.json') : undefined);
  const sink = opts.sink ?? createStdoutSink('auth-local');
  const core = () =>
    createDeps({
      mailer: outbox,
      db,
      tableName: DEFAULT_TABLE_NAME,
      secrets,
      sink,
      config: { defaultTenant: tenant, allowLoopbackHttp: true, ...opts.config },
      fetch: opts.fetch,
      now: opts.now,
    });
  // Bulk imports and users exports are jobs of the management function, run on an in-process
  // queue by its composition; export files go to <dataDir>/exports (a temporary folder without one).
  const tempExports = opts.dataDir ? undefined : mkdtempSync(join(tmpdir(), 'auth-exports-'));
  let imports: ReturnType<typeof createInProcessJobs> | undefined;
  const jobParts: CompositionParts = {
    jobs: () => ({ exportFiles: createLocalExportFiles(tempExports ?? join(opts.dataDir as string, 'exports')) }),
    jobQueue: (d) => {
      imports = createInProcessJobs(d, { concurrency: opts.importConcurrency });
      return imports.queue;
    },
  };
  // As in AWS, the two functions are two compositions with caches of their own (tenant
  // configuration, domains, breakers): a management write reaches the token function when
  // its configuration cache expires (`configCacheMs`), as it does in AWS.
  const oneComposition = opts.functions === 'one-composition';
  const deps = withMigrationFlows(core(), oneComposition ? jobParts : {});
  const managementDeps = oneComposition ? deps : withRegistrationHooks(core(), jobParts);

  const credentialsFile = opts.dataDir ? join(opts.dataDir, 'dev-credentials.json') : undefined;
  let credentials = await seedDevTenant(deps, tenant, { demoPassword: opts.demoPassword });
  if (credentials && credentialsFile) writeFileSync(credentialsFile, JSON.stringify(credentials, null, 2), { mode: 0o600 });
  if (!credentials && credentialsFile) credentials = JSON.parse(readFileSync(credentialsFile, 'utf8')) as DevCredentials;
  if (!credentials) throw new Error('the tenant exists but its dev credentials are unknown');

  // Jobs a stopped server left unfinished are queued again.
  imports!.resume();
  const jobs = imports!.queue;
  handlers.token = createTokenHandler(deps) as unknown as LambdaHandler;
  handlers.management = createManagementHandler(managementDeps) as unknown as LambdaHandler;
  const { port } = server.address() as AddressInfo;
  const servers: Server[] = [server];
  let httpsUrl: string | undefined;
  if (opts.tls) {
    const tlsServer = createTlsServer(opts.tls, apiGatewayListener(handlers, 'https'));
    await new Promise<void>((resolve, reject) => {
      tlsServer.once('error', reject);
      tlsServer.listen(0, '127.0.0.1', () => resolve());
    });
    httpsUrl = `https://127.0.0.1:${(tlsServer.address() as AddressInfo).port}`;
    servers.push(tlsServer);
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    httpsUrl,
    outbox,
    deps,
    managementDeps,
    jobs,
    credentials,
    async close() {
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      );
      await jobs.stop();
      // Requests of handlers cut off above (and of jobs being resumed) finish before the engine closes.
      await storeRequests.settled(5_000);
      db.destroy();
      await engine.close();
      releaseLock();
      if (tempOutbox) rmSync(tempOutbox, { recursive: true, force: true });
      if (tempExports) rmSync(tempExports, { recursive: true, force: true });
    },
  };
}
