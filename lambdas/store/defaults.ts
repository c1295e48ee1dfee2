import { randomBytes } from 'node:crypto';
import type {
  AppType,
  ClientRecord,
  ConnectionOptions,
  ConnectionRecord,
  RefreshTokenPolicy,
  TenantSettings,
  TokenEndpointAuthMethod,
} from './records.js';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function randomAlnum(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (let i = 0; i < length; i++) out += ALNUM[bytes[i] % ALNUM.length];
  return out;
}

/** Auth0's id shapes: `con_<16 alnum>`, 32-char client ids, 64-char client secrets. */
export const newConnectionId = () => `con_${randomAlnum(16)}`;
export const newClientId = () => randomAlnum(32);
export const newClientSecret = () => randomBytes(48).toString('base64url');

/** Auth0's defaults for a new application's refresh tokens. */
export const defaultRefreshTokenPolicy = (): RefreshTokenPolicy => ({
  rotation_type: 'non-rotating',
  expiration_type: 'non-expiring',
  leeway: 0,
  token_lifetime: 2_592_000,
  idle_token_lifetime: 1_296_000,
  infinite_token_lifetime: true,
  infinite_idle_token_lifetime: true,
});

export const defaultTenantSettings = (tenant: string, friendlyName = tenant): TenantSettings => ({
  tenant,
  friendly_name: friendlyName,
  default_directory: 'Username-Password-Authentication',
  lockout: { max_attempts: 3, window_seconds: 900 },
  access_token_lifetime: 86_400,
  id_token_lifetime: 36_000,
});

const grantsByAppType: Record<AppType, string[]> = {
  regular_web: ['authorization_code', 'implicit', 'refresh_token', 'client_credentials'],
  spa: ['authorization_code', 'implicit', 'refresh_token'],
  native: ['authorization_code', 'implicit', 'refresh_token'],
  non_interactive: ['client_credentials'],
};

export function newClientRecord(p: {
  name: string;
  app_type: AppType;
  client_id?: string;
  client_secret_hash?: string;
  grant_types?: string[];
  token_endpoint_auth_method?: TokenEndpointAuthMethod;
  refresh_token?: Partial<RefreshTokenPolicy>;
  callbacks?: string[];
  allowed_logout_urls?: string[];
  web_origins?: string[];
  now: string;
}): ClientRecord {
  const isPublic = p.app_type === 'spa' || p.app_type === 'native';
  return {
    client_id: p.client_id ?? newClientId(),
    name: p.name,
    app_type: p.app_type,
    client_secret_hash: p.client_secret_hash,
    token_endpoint_auth_method: p.token_endpoint_auth_method ?? (isPublic ? 'none' : 'client_secret_post'),
    grant_types: p.grant_types ?? grantsByAppType[p.app_type],
    refresh_token: { ...defaultRefreshTokenPolicy(), ...p.refresh_token },
    callbacks: p.callbacks ?? [],
    allowed_logout_urls: p.allowed_logout_urls ?? [],
    web_origins: p.web_origins ?? [],
    created_at: p.now,
    updated_at: p.now,
  };
}

export function newDatabaseConnection(p: {
  name: string;
  options?: ConnectionOptions;
  enabled_clients?: string[];
  id?: string;
  now: string;
}): ConnectionRecord {
  return {
    id: p.id ?? newConnectionId(),
    name: p.name,
    display_name: p.name,
    strategy: 'auth0',
    options: { brute_force_protection: true, ...p.options },
    enabled_clients: p.enabled_clients ?? [],
    realms: [p.name],
    created_at: p.now,
    updated_at: p.now,
  };
}
