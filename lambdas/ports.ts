/**
 * The ports: what the domain code asks of the outside world and of the pluggable flows, as
 * types only. They depend on the records, the store and the request log, never on `deps.ts`
 * (which assembles them), so no type cycle runs through the dependency bag.
 *
 * The pluggable flows are bound to their function's composition when it is built
 * (lambdas/compose.ts): callers hand them only the request's context.
 */
import type { MigrationPath } from './logs/log-types.js';
import type { RequestWrites } from './logs/request-writes.js';
import type { ClientRecord, ConnectionRecord, PasswordRecord, UserRecord } from './store/records.js';
import type { TenantConfig } from './store/tenant-config-repository.js';

export type { UsersRepository as UsersStore } from './store/users-repository.js';
export type { LockoutRepository as LockoutStore } from './store/lockout-repository.js';
export type { LoginReads } from './store/login-reads.js';
export type { RefreshTokenRepository as RefreshTokenStore } from './store/refresh-token-repository.js';
export type { TenantConfigRepository as TenantConfigStore, TenantConfigCache } from './store/tenant-config-repository.js';
export type { MigrationCountersRepository as MigrationCountersStore } from './store/migration-counters-repository.js';
export type { UpstreamClient as UpstreamSource } from './migration/upstream-client.js';

/** What every request handler knows about the request's tenant and caller. */
export interface TenantContext {
  tenant: string;
  config: TenantConfig;
  issuer: string;
  host: string;
  ip?: string;
  userAgent?: string;
  /** The request's auth log and final write (events, issued items, counter resets). */
  log: RequestWrites;
}

/** The body of a successful token response. */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope?: string;
  id_token?: string;
  refresh_token?: string;
}

export interface PasswordLoginInput {
  connection: ConnectionRecord;
  username: string;
  password: string;
  clientId: string;
  clientName?: string;
}

/** What the local lookup found, handed to the upstream fallback on a miss. */
export interface LocalLookup {
  identifier: string;
  user?: UserRecord;
  password?: PasswordRecord;
  attempts: number;
  /** Recent failed attempts of the client IP across identifiers (the suspicious-IP bucket's level). */
  ipFailures?: number;
}

/**
 * Why a password was not accepted, as the log tells it: the reason and event type, and whether
 * it counts toward the lockout (a wrong password does; an upstream outage does not).
 */
export interface PasswordFailure {
  reason: string;
  logType: 'fp' | 'fu';
  countsAsFailure: boolean;
  /** Marks the failure event as one of a migration path (metric filters key on it). */
  migration?: MigrationPath;
  /** Extra facts for the failure event (e.g. the upstream error code and description). */
  details?: Record<string, unknown>;
  /** A bcrypt of this password was already spent (the upstream accepted it): no dummy compare. */
  passwordHashed?: boolean;
  /** The upstream is over its rate limit: the client may come back after this many seconds. */
  retryAfterSeconds?: number;
}

/**
 * The verdict on a password, from the local hash or the upstream fallback alike: the user it
 * belongs to (migrated or found), or why not.
 */
export type PasswordVerdict = { ok: true; user: UserRecord } | ({ ok: false } & PasswordFailure);

/** A fallback to an upstream identity provider for identifiers without a local password. */
export type PasswordFallback = (ctx: TenantContext, input: PasswordLoginInput, local: LocalLookup) => Promise<PasswordVerdict | undefined>;

/** Answers a refresh grant whose token this service did not issue; undefined: not handled. */
export type ForeignRefreshToken = (
  ctx: TenantContext,
  p: { client: ClientRecord; refreshToken: string; scope?: string },
) => Promise<TokenResponse | undefined>;

/** Hooks around user creation (registration hooks). */
export interface RegistrationHooks {
  /** May deny the creation (throws) or return metadata to merge into the new user. */
  pre(tenant: string, user: UserRecord): Promise<Partial<Pick<UserRecord, 'app_metadata' | 'user_metadata'>> | void>;
  /** Runs after the user exists; a failure is logged by the hook runner and never fails creation. */
  post(tenant: string, user: UserRecord): Promise<void>;
}
