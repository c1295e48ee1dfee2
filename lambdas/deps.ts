import { guardOutboundFetch } from './http/outbound-url.js';
import type {
  AuthorizationCodesStore,
  BatchWriter,
  ExportJobsStore,
  ForeignRefreshToken,
  ImportCountersStore,
  ImportedUsersStore,
  ImportJobsStore,
  ImportSlotsStore,
  LoginSessionsStore,
  LoginTransactionsStore,
  LogsStore,
  PasswordFallback,
  RateLimitsStore,
  RegistrationHooks,
  SocialTransactionsStore,
  TicketsStore,
  UpstreamTokensStore,
  UsersListingStore,
} from './ports.js';
import type { PostLoginExtension, PostLoginPolicy } from './extensions/post-login.js';
import type { ExportFileStore } from './jobs/job-ports.js';
import type { JobQueue } from './jobs/job-queue.js';
import type { LogSink } from './logs/log-sink.js';
import type { Mailer } from './mail/mail-port.js';
import { createBreakerRegistry, type BreakerRegistry } from './migration/circuit-breaker.js';
import { createUpstreamBudget, type UpstreamBudget } from './migration/upstream-budget.js';
import { createUpstreamClient, type UpstreamClient } from './migration/upstream-client.js';
import { createUpstreamManagementApi, type UpstreamManagementApi } from './migration/upstream-management-api.js';
import type { SecretStore } from './secrets/secret-store.js';
import type { DynamoDBDocumentClient } from './store/dynamo-client.js';
import { storeLatencyOf, type StoreLatency } from './store/store-latency.js';
import { createBatchWriter } from './store/batch-writer.js';
import { createJobsRepository } from './store/jobs-repository.js';
import { createImportCountersRepository } from './store/import-counters-repository.js';
import { createMigrationCountersRepository, type MigrationCountersRepository } from './store/migration-counters-repository.js';
import { createLockoutRepository, type LockoutRepository } from './store/lockout-repository.js';
import { createRoleMembersRepository, type RoleMembersRepository } from './store/role-members-repository.js';
import { createRefreshTokenRepository, type RefreshTokenRepository } from './store/refresh-token-repository.js';
import {
  createTenantConfigCache,
  createTenantConfigRepository,
  type TenantConfigCache,
  type TenantConfigRepository,
} from './store/tenant-config-repository.js';
import { createUpstreamBudgetRepository } from './store/upstream-budget-repository.js';
import { createUsersRepository, type UsersRepository } from './store/users-repository.js';
import { createLoginReads, type LoginReads } from './store/login-reads.js';
import { createLoginSessionsRepository } from './store/login-sessions-repository.js';
import { createAuthorizationCodeRepository } from './store/authorization-code-repository.js';
import { createLoginTransactionsRepository, createSocialTransactionsRepository } from './store/pending-logins-repository.js';
import { createTicketsRepository } from './store/tickets-repository.js';
import { createRateLimitRepository } from './store/rate-limit-repository.js';
import { createExportJobsRepository } from './store/export-jobs-repository.js';
import { createLogsRepository } from './store/logs-repository.js';
import { createUpstreamTokenRepository } from './store/upstream-token-repository.js';
import { createImportSlotsRepository } from './store/import-slots-repository.js';
import { createImportedUsersRepository } from './store/imported-users-repository.js';
import { createUsersListing } from './store/users-index.js';
import { createSigningKeyProvider, type SigningKeyProvider } from './tokens/signing-keys.js';

export interface ServiceConfig {
  /** Tenant served for hosts that map to no tenant. */
  defaultTenant: string;
  /** The stack's custom domain: the default tenant's one issuer is `https://<issuerDomain>/`. */
  issuerDomain?: string;
  /** Plain-http loopback upstreams are accepted only when running locally. */
  allowLoopbackHttp: boolean;
  upstreamTimeoutMs: number;
  upstreamBudgetMs: number;
  /** How long a login waits for the lockout attempts its own parallel logins hold (default 5 s). */
  attemptWaitMs?: number;
  /** A login from a client IP with this many recent failures comes last at the upstream budget (default 10; 0: never). */
  suspectIpFailures?: number;
  /** A reset request (`change_password`, the forgot-password page) is answered no sooner than this (default 1000 ms; 0: off). */
  resetAnswerFloorMs?: number;
  /** Time all registration hooks of one trigger may take together (each also has its own timeout). */
  hookBudgetMs: number;
  bcryptCost: number;
  /** How long a process keeps a tenant's configuration before reading it again. */
  configCacheMs: number;
  maxBodyBytes: number;
  /** In AWS, how long one DynamoDB request may take before it fails as a store overload (default 1000 ms). */
  storeRequestTimeoutMs?: number;
  /** Re-mints are turned away (503, Retry-After) while the store's recent requests take longer than this on average (default 300 ms). */
  shedRemintsAboveStoreMs?: number;
  /** The operator's address (the stack's `alarmEmail`): import completion e-mails of a tenant without `support_email` go there. */
  operatorEmail?: string;
  /** The post-login extension: a Lambda function (AWS) or a JS module (locally), its time budget and failure mode. */
  postLogin?: { functionName?: string; modulePath?: string; timeoutMs: number; failureMode: 'open' | 'closed' };
}

/** DynamoDB answers in milliseconds; a request still unanswered after a second is a store in trouble. */
export const DEFAULT_STORE_REQUEST_TIMEOUT_MS = 1000;
/** Above this weighted mean of a process's store request durations (ms), re-mints are shed (DynamoDB answers in a few). */
export const DEFAULT_SHED_REMINTS_ABOVE_STORE_MS = 300;

export const defaultServiceConfig: ServiceConfig = {
  defaultTenant: 'default',
  allowLoopbackHttp: false,
  upstreamTimeoutMs: 2500,
  upstreamBudgetMs: 4500,
  hookBudgetMs: 5000,
  bcryptCost: 10,
  configCacheMs: 5000,
  maxBodyBytes: 64 * 1024,
};

export function serviceConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const num = (v: string | undefined, d: number) => (v && Number.isFinite(Number(v)) ? Number(v) : d);
  return {
    defaultTenant: env.DEFAULT_TENANT || defaultServiceConfig.defaultTenant,
    ...(env.ISSUER_DOMAIN ? { issuerDomain: env.ISSUER_DOMAIN.trim().toLowerCase() } : {}),
    allowLoopbackHttp: false,
    upstreamTimeoutMs: num(env.UPSTREAM_TIMEOUT_MS, defaultServiceConfig.upstreamTimeoutMs),
    upstreamBudgetMs: num(env.UPSTREAM_BUDGET_MS, defaultServiceConfig.upstreamBudgetMs),
    hookBudgetMs: num(env.HOOK_BUDGET_MS, defaultServiceConfig.hookBudgetMs),
    bcryptCost: num(env.BCRYPT_COST, defaultServiceConfig.bcryptCost),
    configCacheMs: num(env.CONFIG_CACHE_MS, defaultServiceConfig.configCacheMs),
    maxBodyBytes: num(env.MAX_BODY_BYTES, defaultServiceConfig.maxBodyBytes),
    storeRequestTimeoutMs: num(env.STORE_REQUEST_TIMEOUT_MS, DEFAULT_STORE_REQUEST_TIMEOUT_MS),
    shedRemintsAboveStoreMs: num(env.SHED_REMINTS_ABOVE_STORE_MS, DEFAULT_SHED_REMINTS_ABOVE_STORE_MS),
    ...(env.OPERATOR_EMAIL ? { operatorEmail: env.OPERATOR_EMAIL } : {}),
    ...(env.POST_LOGIN_FUNCTION_NAME || env.POST_LOGIN_MODULE
      ? {
          postLogin: {
            functionName: env.POST_LOGIN_FUNCTION_NAME || undefined,
            modulePath: env.POST_LOGIN_MODULE || undefined,
            timeoutMs: num(env.POST_LOGIN_TIMEOUT_MS, 2000),
            failureMode: env.POST_LOGIN_FAILURE_MODE === 'open' ? ('open' as const) : ('closed' as const),
          },
        }
      : {}),
  };
}

/** Everything domain code needs from the outside world, passed as arguments (no module state). */
export interface Deps {
  db: DynamoDBDocumentClient;
  tableName: string;
  /** How long the store's recent requests took, when the document client measures them (re-mints are shed above a mean). */
  storeLatency?: Pick<StoreLatency, 'meanMs'>;
  secrets: SecretStore;
  sink: LogSink;
  now: () => number;
  fetch: typeof fetch;
  config: ServiceConfig;
  tenantConfigs: TenantConfigRepository;
  tenantConfigCache: TenantConfigCache;
  users: UsersRepository;
  lockouts: LockoutRepository;
  /** The users as the Management API lists and exports them, with their login statistics. */
  usersListing: UsersListingStore;
  /** The password check's combined reads (claim and IP bucket; user and failure ceiling). */
  loginReads: LoginReads;
  refreshTokens: RefreshTokenRepository;
  migrationCounters: MigrationCountersRepository;
  /** Writes many items at once: each request's final write (auth log, issued tokens, counter resets). */
  batchWriter: BatchWriter;
  /** Imported users and their first sign-ins here (the drain view of bulk imports). */
  importCounters: ImportCountersStore;
  /** Users-import jobs: the uploaded file's batches, their results, the job's status. */
  importJobs: ImportJobsStore;
  /** The tenant's active import job slots (Auth0's limit of active import jobs). */
  importSlots: ImportSlotsStore;
  /** The batched user writes of a bulk import. */
  importedUsers: ImportedUsersStore;
  /** Users-export jobs (the file is written by the job worker). */
  exportJobs: ExportJobsStore;
  /** The log events the Management API reads back. */
  logs: LogsStore;
  /** The ledger that makes each upstream refresh token redeemable once (re-mints). */
  upstreamTokens: UpstreamTokensStore;
  roleMembers: RoleMembersRepository;
  /** The browser login: login sessions, the login page's and the social providers' pending logins. */
  loginSessions: LoginSessionsStore;
  loginTransactions: LoginTransactionsStore;
  socialTransactions: SocialTransactionsStore;
  /** The one-time codes a browser login ends with, redeemed at the token endpoint. */
  authorizationCodes: AuthorizationCodesStore;
  /** One-time links: password change and e-mail verification tickets. */
  tickets: TicketsStore;
  /** Fleet-wide request buckets (signups per IP, reset requests per IP and address). */
  rateLimits: RateLimitsStore;
  signingKeys: SigningKeyProvider;
  /** host → tenant, cached for a minute (custom domains change rarely). */
  domainCache: Map<string, { tenant: string | undefined; at: number }>;
  /** Circuit breakers per upstream (connection id or migration source id); the upstream clients share their open state across the fleet (migration/fleet-breakers.ts). */
  breakers: BreakerRegistry;
  /** The fleet-wide call budget per upstream (a token bucket in the table), spent by every upstream call. */
  upstreamBudget: UpstreamBudget;
  /** The upstream Auth0 client both migration paths share (timeouts, budget, breakers, call logs). */
  upstream: UpstreamClient;
  /** The upstream tenant's Management API (the whole user on migration). */
  upstreamManagement: UpstreamManagementApi;
  /** Upstream fallback for password logins without a local password (import mode). */
  passwordFallback?: PasswordFallback;
  /** Upstream redemption of refresh tokens this service did not issue (migration sources). */
  foreignRefreshToken?: ForeignRefreshToken;
  /** Registration hooks every user creation runs (pre may deny or add metadata). */
  registrationHooks?: RegistrationHooks;
  /** The post-login extension every user-token issuance runs (custom claims, deny). */
  postLogin?: { extension: PostLoginExtension; policy: PostLoginPolicy };
  /** Outgoing mail (password reset, e-mail verification): SES in AWS, an outbox folder locally. */
  mailer?: Mailer;
  /** Where users-export files go (written by the job worker, located by the management function). */
  jobs?: { exportFiles: ExportFileStore };
  /** Where accepted jobs (bulk imports) go to run outside the request: SQS in AWS, in process locally. */
  jobQueue?: JobQueue;
}

/** @deprecated the port's name is `ForeignRefreshToken` (lambdas/ports.ts). */
export type ForeignRefreshTokenHandler = ForeignRefreshToken;

export function createDeps(p: {
  db: DynamoDBDocumentClient;
  tableName: string;
  secrets: SecretStore;
  sink: LogSink;
  config?: Partial<ServiceConfig>;
  now?: () => number;
  fetch?: typeof fetch;
  passwordFallback?: PasswordFallback;
  foreignRefreshToken?: ForeignRefreshToken;
  registrationHooks?: RegistrationHooks;
  mailer?: Mailer;
}): Deps {
  const config = { ...defaultServiceConfig, ...p.config };
  const now = p.now ?? Date.now;
  // Every outbound request (upstream, JWKS, hooks) is checked after DNS resolution, redirects never followed.
  const fetchImpl = guardOutboundFetch(p.fetch ?? globalThis.fetch, { allowLoopback: config.allowLoopbackHttp });
  const breakers = createBreakerRegistry({ now });
  const upstreamBudget = createUpstreamBudget({
    repo: createUpstreamBudgetRepository(p.db, p.tableName),
    now,
    onError: (err) => p.sink.warn('upstream budget unavailable', { error: err instanceof Error ? err.name : 'unknown' }),
  });
  return {
    db: p.db,
    tableName: p.tableName,
    storeLatency: storeLatencyOf(p.db),
    secrets: p.secrets,
    sink: p.sink,
    now,
    fetch: fetchImpl,
    config,
    tenantConfigs: createTenantConfigRepository(p.db, p.tableName),
    tenantConfigCache: createTenantConfigCache({ ttlMs: config.configCacheMs, now }),
    users: createUsersRepository(p.db, p.tableName, now),
    lockouts: createLockoutRepository(p.db, p.tableName),
    usersListing: createUsersListing(p.db, p.tableName),
    loginReads: createLoginReads(p.db, p.tableName),
    refreshTokens: createRefreshTokenRepository(p.db, p.tableName),
    migrationCounters: createMigrationCountersRepository(p.db, p.tableName),
    importCounters: createImportCountersRepository(p.db, p.tableName),
    importJobs: createJobsRepository(p.db, p.tableName),
    importSlots: createImportSlotsRepository(p.db, p.tableName, now),
    importedUsers: createImportedUsersRepository(p.db, p.tableName),
    exportJobs: createExportJobsRepository(p.db, p.tableName),
    logs: createLogsRepository(p.db, p.tableName),
    upstreamTokens: createUpstreamTokenRepository(p.db, p.tableName),
    batchWriter: createBatchWriter(p.db, p.tableName),
    roleMembers: createRoleMembersRepository(p.db, p.tableName),
    loginSessions: createLoginSessionsRepository(p.db, p.tableName, now),
    loginTransactions: createLoginTransactionsRepository(p.db, p.tableName, now),
    socialTransactions: createSocialTransactionsRepository(p.db, p.tableName, now),
    authorizationCodes: createAuthorizationCodeRepository(p.db, p.tableName),
    tickets: createTicketsRepository(p.db, p.tableName),
    rateLimits: createRateLimitRepository(p.db, p.tableName),
    signingKeys: createSigningKeyProvider(p.secrets),
    domainCache: new Map(),
    breakers,
    upstreamBudget,
    upstream: createUpstreamClient({
      fetch: fetchImpl,
      breakers,
      budget: upstreamBudget,
      perCallTimeoutMs: config.upstreamTimeoutMs,
      allowLoopbackHttp: config.allowLoopbackHttp,
      log: ({ message, ...fields }) => p.sink.info(String(message ?? 'upstream_call'), fields),
      now,
    }),
    upstreamManagement: createUpstreamManagementApi({
      fetch: fetchImpl,
      breakers,
      budget: upstreamBudget,
      perCallTimeoutMs: config.upstreamTimeoutMs,
      allowLoopbackHttp: config.allowLoopbackHttp,
      now,
      log: ({ message, ...fields }) => p.sink.info(String(message ?? 'upstream_call'), fields),
    }),
    passwordFallback: p.passwordFallback,
    foreignRefreshToken: p.foreignRefreshToken,
    registrationHooks: p.registrationHooks,
    mailer: p.mailer,
  };
}
