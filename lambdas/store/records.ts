import type { MigrationPath } from '../logs/log-types.js';
import type { MigrationOutcome } from '../logs/migration-outcome.js';

/** Shapes of the items the repositories read and write (without pk/sk). */

export interface LockoutPolicy {
  /** Failed attempts per (connection, identifier) before further attempts are refused. */
  max_attempts: number;
  /** How long the counter lives after the first failure, and so how long a block lasts. */
  window_seconds: number;
}

/** Auth0's `/api/v2/attack-protection/brute-force-protection` resource. */
export interface BruteForceProtection {
  enabled: boolean;
  /** `block` refuses further attempts; `user_notification` is accepted and stored (no mail is sent). */
  shields: ('block' | 'user_notification')[];
  /** IPs and CIDRs never counted nor blocked. */
  allowlist: string[];
  /** Strikes per (user or identifier, IP), Auth0's default; or per user or identifier from any IP. */
  mode: 'count_per_identifier_and_ip' | 'count_per_identifier';
  max_attempts: number;
}

/** One stage of Auth0's suspicious-IP throttling: a bucket of `max_attempts`, one more every `rate` ms. */
export interface ThrottleStage {
  max_attempts: number;
  rate: number;
}

/** Auth0's `/api/v2/attack-protection/suspicious-ip-throttling` resource. */
export interface SuspiciousIpThrottling {
  enabled: boolean;
  shields: ('block' | 'admin_notification')[];
  allowlist: string[];
  stage: { 'pre-login': ThrottleStage; 'pre-user-registration': ThrottleStage };
}

export interface TenantSettings {
  tenant: string;
  friendly_name: string;
  /** Name of the database connection used by the password grant without `realm`. */
  default_directory?: string;
  default_audience?: string;
  lockout: LockoutPolicy;
  access_token_lifetime: number;
  id_token_lifetime: number;
  domains?: string[];
  /** Auth0's tenant setting: where mail about the tenant goes (here: the completion e-mail of import jobs). */
  support_email?: string;
  /** Per-tenant overrides of the e-mail templates (subject, text, html; Auth0's placeholders). */
  email_templates?: Partial<Record<import('../mail/templates.js').EmailTemplateName, Partial<import('../mail/templates.js').EmailTemplate>>>;
}

export type RotationType = 'rotating' | 'non-rotating';

export interface RefreshTokenPolicy {
  rotation_type: RotationType;
  expiration_type: 'expiring' | 'non-expiring';
  leeway: number;
  token_lifetime: number;
  idle_token_lifetime: number;
  infinite_token_lifetime?: boolean;
  infinite_idle_token_lifetime?: boolean;
}

export type AppType = 'regular_web' | 'spa' | 'native' | 'non_interactive';
export type TokenEndpointAuthMethod = 'client_secret_post' | 'client_secret_basic' | 'none';

export interface ClientRecord {
  client_id: string;
  name: string;
  app_type: AppType;
  /** SHA-256 (hex) of the client secret; the secret itself is shown once at creation. */
  client_secret_hash?: string;
  token_endpoint_auth_method: TokenEndpointAuthMethod;
  grant_types: string[];
  refresh_token: RefreshTokenPolicy;
  callbacks: string[];
  allowed_logout_urls: string[];
  web_origins: string[];
  created_at: string;
  updated_at: string;
}

export interface ConnectionUpstreamConfiguration {
  token_endpoint: string;
  userinfo_endpoint: string;
  client_id: string;
  /** Reference to the secret store entry holding the upstream client secret. */
  client_secret_ref?: string;
  /** Last characters of the secret, safe to show. */
  client_secret_hint?: string;
  profile_from?: 'userinfo' | 'id_token';
  /** Client credentials with `read:users` (and `read:roles`) on the upstream's Management API: migrations bring the whole user. */
  management_api?: { domain: string; client_id: string; client_secret_ref: string; client_secret_hint?: string; rate_limit?: UpstreamRateLimit };
  /** The fleet-wide budget of calls to this upstream (default 20 per second). */
  rate_limit?: UpstreamRateLimit;
  [key: string]: unknown;
}

/** How many calls per second every instance together may make to one upstream Auth0 tenant. */
export interface UpstreamRateLimit {
  requests_per_second: number;
}

export interface ConnectionOptions {
  import_mode?: boolean;
  configuration?: ConnectionUpstreamConfiguration;
  disable_signup?: boolean;
  brute_force_protection?: boolean;
  requires_username?: boolean;
  passwordPolicy?: string;
  [key: string]: unknown;
}

export interface ConnectionRecord {
  id: string;
  name: string;
  display_name?: string;
  strategy: string;
  options: ConnectionOptions;
  enabled_clients: string[];
  realms: string[];
  is_domain_connection?: boolean;
  metadata?: Record<string, string>;
  created_at: string;
  updated_at: string;
}

export type TokenDialect = 'access_token' | 'access_token_authz';

/** An API that clients ask tokens for with `audience=` (Auth0's resource server). */
export interface ResourceServerRecord {
  id: string;
  identifier: string;
  name: string;
  scopes: { value: string; description?: string }[];
  signing_alg?: 'RS256';
  token_lifetime?: number;
  /** Lifetime of tokens issued to browser clients (SPAs); falls back to `token_lifetime`. */
  token_lifetime_for_web?: number;
  /** Only an explicit `false` refuses refresh tokens (records written before the field existed allow them). */
  allow_offline_access?: boolean;
  /** RBAC: the granted API scopes are limited to the user's permissions. */
  enforce_policies?: boolean;
  /** `access_token_authz` adds the user's `permissions` to access tokens. */
  token_dialect?: TokenDialect;
  skip_consent_for_verifiable_first_party_clients?: boolean;
}

/** A permission: a scope of one API (`resource_server_identifier`). */
export interface PermissionRef {
  resource_server_identifier: string;
  permission_name: string;
}

/** An RBAC role; its permissions live on the role item (one write changes them). */
export interface RoleRecord {
  id: string;
  name: string;
  description?: string;
  permissions: PermissionRef[];
}

/** A declarative custom claim: a value of the user (`app_metadata.plan`, `roles`) under a namespaced claim. */
export interface ClaimMappingRecord {
  id: string;
  /** `app_metadata.<path>`, `user_metadata.<path>`, or `roles` (the names of the user's roles). */
  source: string;
  /** A namespaced claim name, e.g. `https://myapp.example/plan`. */
  claim: string;
  tokens: ('access_token' | 'id_token')[];
}

export interface ClientGrantRecord {
  id: string;
  client_id: string;
  audience: string;
  scope: string[];
}

export interface MigrationSourceRecord {
  id: string;
  name: string;
  provider: 'auth0';
  connection: string;
  enabled: boolean;
  credentials: { domain: string; client_id: string; client_secret_ref: string; client_secret_hint?: string };
  /** Local clients, besides the one with `credentials.client_id`, whose tokens this source redeems. */
  client_ids?: string[];
  profile_from?: 'userinfo' | 'id_token';
  /** The fleet-wide budget of calls to this source's upstream (default 20 per second). */
  rate_limit?: UpstreamRateLimit;
  created_at: string;
  updated_at: string;
}

export interface HookRecord {
  id: string;
  name: string;
  trigger: 'pre-user-registration' | 'post-user-registration';
  url: string;
  enabled: boolean;
  timeout_ms: number;
  secret_ref: string;
  created_at: string;
  updated_at: string;
}

export interface UserIdentity {
  provider: string;
  user_id: string;
  connection: string;
  isSocial: boolean;
}

export interface UserRecord {
  user_id: string;
  tenant: string;
  connection_id: string;
  connection: string;
  email?: string;
  email_verified?: boolean;
  username?: string;
  name?: string;
  nickname?: string;
  given_name?: string;
  family_name?: string;
  picture?: string;
  phone_number?: string;
  identities: UserIdentity[];
  app_metadata: Record<string, unknown>;
  user_metadata: Record<string, unknown>;
  /** Profile attributes from the upstream that have no field of their own. */
  upstream_profile?: Record<string, unknown>;
  /** The host of the upstream Auth0 tenant the user migrated from (never merged with another upstream's user). */
  upstream?: string;
  blocked?: boolean;
  created_at: string;
  updated_at: string;
  last_login?: string;
  last_ip?: string;
  logins_count: number;
  /** How the user came to exist here (see UserArrival); absent on users created before it was recorded. */
  arrival?: UserArrival;
}

/** The ways a user arrives: lazily from the upstream, by bulk import, or created here. */
export type ArrivalPath =
  | 'import'
  | 'password_fallback'
  | 'refresh_remint'
  | 'password_reset'
  | 'social'
  | 'signup'
  | 'management_api';

/** How and when a user arrived; shown by the Management API as the user's `arrival`. */
export interface UserArrival {
  via: ArrivalPath;
  /** Where from: the upstream host, the migration source id, the import job id, the social connection. */
  source?: string;
  /** When the user was created by that path (ISO). */
  at: string;
  /** For imports: the job's `external_id`, when the client gave one. */
  external_id?: string;
}

export interface PasswordRecord {
  /** bcrypt; absent when only a custom (non-bcrypt) hash was imported. */
  hash?: string;
  /** Auth0's `custom_password_hash` import shape, stored verbatim; checked at login and replaced by bcrypt on the first success. */
  custom_password_hash?: Record<string, unknown>;
  /** How the password arrived; absent means a local password (older records). */
  origin?: 'import' | 'local';
  updated_at: string;
}

// ---------------------------------------------------------------------------------------------
// What the stores answer and take besides the items themselves (the ports in ../ports.ts speak
// in these and the records above only).

/** The key of an item of the single table. */
export type ItemKey = { pk: string; sk: string };

export interface UserWithPassword {
  user?: UserRecord;
  password?: PasswordRecord;
  /** The client IP of the user's last login (its login statistics item, same partition). */
  lastIp?: string;
  /** The logins its statistics item counts, read with the user (0: never signed in here). */
  loginsCount?: number;
}

export type CreateUserOutcome =
  | { outcome: 'created'; user: UserRecord }
  | { outcome: 'exists'; user: UserRecord }
  | { outcome: 'identifier_taken'; field: 'email' | 'username'; holder: string };

/**
 * The identifiers a creation claimed while it looked its user up (`lookUpClaiming`): each one was
 * free and is now held for `userId` as of `claimedAt`, until the user is written or the claim is
 * given back (`giveBackClaims`).
 */
export interface EarlyClaims {
  userId: string;
  taken: Array<{ field: 'email' | 'username'; key: ItemKey; claimedAt: number }>;
}

/** The identifier's claim (the user it points at; retired or not). */
export interface IdentifierClaim {
  user_id: string;
  retired: boolean;
}

export type Reservation = { attempts: number } | 'blocked' | 'busy';

export interface RefreshTokenItem {
  token_id: string;
  family_id: string;
  tenant: string;
  client_id: string;
  user_id: string;
  /** SHA-256 (base64url) of the token's secret part; the token itself is never stored. */
  hash: string;
  scope: string;
  audience?: string;
  status: 'active' | 'rotated';
  rotated_at?: number;
  /** The token this one was first rotated into: reuse within the leeway is allowed only while it is unused. */
  successor_id?: string;
  created_at: number;
  /** Idle expiry (epoch s), renewed on each use; absent for non-expiring idle policy. */
  idle_exp?: number;
  /** DynamoDB TTL: the token's last useful moment; absent while it may live indefinitely. */
  ttl?: number;
}

export interface RefreshFamilyItem {
  family_id: string;
  tenant: string;
  client_id: string;
  user_id: string;
  status: 'active' | 'revoked';
  /** Absolute expiry (epoch s), fixed at first issue; absent for non-expiring tokens. */
  absolute_exp?: number;
  created_at: number;
  revoked_at?: number;
  revoked_reason?: string;
  /** DynamoDB TTL: the absolute expiry; absent for non-expiring families until revoked. */
  ttl?: number;
  /** Set when the family was minted from an upstream refresh token. */
  migration?: string;
}

export type ConsumeOutcome = 'consumed' | 'reused_within_leeway' | 'reuse_detected';

/** Everything a tenant is configured with, loaded by one Query of the tenant partition. */
export interface TenantConfig {
  settings: TenantSettings;
  clients: Map<string, ClientRecord>;
  connections: Map<string, ConnectionRecord>;
  resourceServers: Map<string, ResourceServerRecord>;
  clientGrants: ClientGrantRecord[];
  migrationSources: MigrationSourceRecord[];
  hooks: HookRecord[];
  roles: Map<string, RoleRecord>;
  claimMappings: ClaimMappingRecord[];
  /** What `/api/v2/attack-protection/*` stored; defaults apply to what is absent. */
  attackProtection: { bruteForce?: Partial<BruteForceProtection>; suspiciousIp?: Partial<SuspiciousIpThrottling> };
}

export type MigrationCounts = Partial<Record<MigrationPath, number>>;

export type MigrationAttemptCounts = Partial<Record<MigrationPath, Partial<Record<MigrationOutcome, number>>>>;

