/**
 * Test helpers that point the seeded database connection of a local service at a fake
 * upstream Auth0 in import mode, by writing the connection record and the secret directly
 * (what `PATCH /api/v2/connections/{id}` does), then invalidating the tenant's config cache.
 */
import { randomBytes } from 'node:crypto';
import { AuthenticationClient } from 'auth0';
import type { LocalServer } from '../../bin/local/server.js';
import { secretNames } from '../../lambdas/secrets/secret-store.js';
import type { ConnectionRecord, ConnectionUpstreamConfiguration } from '../../lambdas/store/records.js';
import type { FakeUpstream } from './fake-upstream.js';
import { httpsToLocalFetch } from './local-service.js';

export interface UpstreamLink {
  clientId: string;
  clientSecret: string;
  secretRef: string;
  /** `tenant/connectionId`: the key of the connection's upstream circuit breaker. */
  breakerKey: string;
}

async function seededConnection(service: LocalServer): Promise<ConnectionRecord> {
  const { tenant, connection } = service.credentials;
  const config = await service.deps.tenantConfigs.load(tenant);
  const record = config?.connections.get(connection.id);
  if (!record) throw new Error(`connection ${connection.id} not found`);
  return record;
}

/** Writes the connection's options and invalidates the config cache (unless told not to). */
export async function updateConnectionOptions(
  service: LocalServer,
  change: (options: ConnectionRecord['options']) => ConnectionRecord['options'],
  opts: { invalidate?: boolean } = {},
): Promise<void> {
  const { tenant } = service.credentials;
  const record = await seededConnection(service);
  const updated_at = new Date(service.deps.now()).toISOString();
  await service.deps.tenantConfigs.putConnection(tenant, { ...record, options: change(record.options), updated_at });
  if (opts.invalidate !== false) service.deps.tenantConfigCache.invalidate(tenant);
}

/**
 * Registers a client at the fake upstream (password-realm allowed unless `grantTypes` says
 * otherwise), stores its secret in the service's secret store and turns import mode on.
 */
export async function linkUpstream(
  service: LocalServer,
  upstream: FakeUpstream,
  opts: {
    grantTypes?: string[];
    profileFrom?: 'userinfo' | 'id_token';
    tokenEndpoint?: string;
    userinfoEndpoint?: string;
    /** The fleet-wide budget of calls to the upstream (`rate_limit.requests_per_second`). */
    requestsPerSecond?: number;
  } = {},
): Promise<UpstreamLink> {
  const { tenant, connection } = service.credentials;
  const clientId = `upstream_${randomBytes(6).toString('hex')}`;
  const clientSecret = randomBytes(24).toString('base64url');
  upstream.addClient({ client_id: clientId, client_secret: clientSecret, grant_types: opts.grantTypes });
  const secretRef = secretNames.connectionClientSecret(tenant, connection.id);
  await service.deps.secrets.put(secretRef, clientSecret);
  const configuration: ConnectionUpstreamConfiguration = {
    token_endpoint: opts.tokenEndpoint ?? upstream.tokenEndpoint,
    userinfo_endpoint: opts.userinfoEndpoint ?? upstream.userinfoEndpoint,
    client_id: clientId,
    client_secret_ref: secretRef,
    client_secret_hint: clientSecret.slice(-4),
    ...(opts.profileFrom ? { profile_from: opts.profileFrom } : {}),
    // The fleet-wide budget is not what most tests are about: without a rate of its own, the
    // largest one, so a fast run of many re-mints in a row is never refused for a budget.
    rate_limit: { requests_per_second: opts.requestsPerSecond ?? 1000 },
  };
  await updateConnectionOptions(service, (options) => ({ ...options, import_mode: true, configuration }));
  return { clientId, clientSecret, secretRef, breakerKey: `${tenant}/${connection.id}` };
}

/** Switches import mode on or off, keeping the upstream configuration. */
export function setImportMode(service: LocalServer, on: boolean, opts: { invalidate?: boolean } = {}): Promise<void> {
  return updateConnectionOptions(service, (options) => ({ ...options, import_mode: on }), opts);
}

/** Closes the connection's upstream circuit breaker, so one test's faults do not leak into the next. */
export function closeUpstreamBreaker(service: LocalServer, link: UpstreamLink): void {
  service.deps.breakers.recordSuccess(link.breakerKey);
}

/** A clock that tests can move forward (lockout windows, breaker cool-downs, cache expiry). */
export function createAdjustableClock() {
  let offsetMs = 0;
  return {
    now: () => Date.now() + offsetMs,
    advance(ms: number) {
      offsetMs += ms;
    },
  };
}

export interface LoginAttempt {
  status: number;
  /** The raw response body of a failure (what the client saw, byte for byte). */
  body?: string;
  error?: string;
  errorDescription?: string;
  data?: { access_token: string; id_token?: string; refresh_token?: string };
}

/**
 * A password-realm login with the unmodified auth0@6 AuthenticationClient against the local
 * service (the SDK verifies the id_token); failures are returned, not thrown.
 */
export async function loginWithAuth0Client(
  service: LocalServer & { domain: string },
  username: string,
  password: string,
  scope = 'openid profile email',
): Promise<LoginAttempt> {
  const { webClient, connection } = service.credentials;
  const auth = new AuthenticationClient({
    domain: service.domain,
    clientId: webClient.client_id,
    clientSecret: webClient.client_secret,
    fetch: httpsToLocalFetch(service),
  });
  try {
    const res = await auth.oauth.passwordGrant({ username, password, realm: connection.name, scope });
    return { status: res.status, data: res.data };
  } catch (err) {
    const e = err as { statusCode?: number; body?: string; error?: string; error_description?: string; name?: string };
    if (e.statusCode === undefined) throw err;
    return { status: e.statusCode, body: e.body, error: e.error, errorDescription: e.error_description };
  }
}

/** Auth events the service logged (parsed), optionally only those about one login name. */
export function authEvents(service: { logLines: string[] }, userName?: string): Array<Record<string, any>> {
  return service.logLines
    .map((line) => JSON.parse(line) as Record<string, any>)
    .filter((e) => e.message === 'auth_event' && (userName === undefined || e.user_name === userName));
}
