/**
 * The fake upstream's Management API (a separate section of fake-upstream.ts): client-credentials
 * tokens for `<issuer>api/v2/`, and the read routes the migration and `import-tenant` use, with
 * Auth0's scopes, error bodies and paging. Users come from the fake's own user list.
 */
import { randomBytes } from 'node:crypto';

type Reply = { status: number; body: unknown; headers?: Record<string, string> };

export interface FakeManagementClient { client_id: string; client_secret: string; scopes: string[] }
export interface FakeRole { id: string; name: string; description?: string; permissions: { resource_server_identifier: string; permission_name: string }[] }
export interface FakeApplication {
  client_id: string; client_secret?: string; name: string; app_type?: string; grant_types?: string[];
  callbacks?: string[]; allowed_logout_urls?: string[]; web_origins?: string[]; token_endpoint_auth_method?: string;
  refresh_token?: Record<string, unknown>; is_first_party?: boolean; global?: boolean;
}

export interface FakeManagementApi {
  addClient(c: FakeManagementClient): void;
  /** Sets what `GET /api/v2/users/{id}` adds to the user's profile. */
  setUserDetails(sub: string, details: { app_metadata?: Record<string, unknown>; user_metadata?: Record<string, unknown>; blocked?: boolean }): void;
  addRole(r: Omit<FakeRole, 'id' | 'permissions'> & { permissions?: FakeRole['permissions'] }): FakeRole;
  assignRoles(sub: string, roleIds: string[]): void;
  addApplication(app: FakeApplication): void;
  addResourceServer(rs: Record<string, unknown> & { identifier: string; name: string }): void;
  addClientGrant(g: { client_id: string; audience: string; scope: string[] }): void;
  addConnection(c: Record<string, unknown> & { name: string; strategy: string }): void;
  /** The next `count` Management API calls (not the token) answer with this status. */
  failNext(status: 429 | 500 | 503, count?: number): void;
  /** Management API calls (path and query), and client-credentials tokens issued. */
  calls: string[];
  tokensIssued(): number;
}

const mgmtError = (statusCode: number, error: string, message: string, errorCode: string): Reply => ({
  status: statusCode, body: { statusCode, error, message, errorCode },
});

export function createFakeManagementApi(opts: {
  issuer: string;
  userProfile(sub: string): Record<string, unknown> | undefined;
  /** The subs of the users with this email (case-insensitive), for `GET /api/v2/users-by-email`. */
  subsByEmail?(email: string): string[];
}): FakeManagementApi & { handle(method: string, path: string, query: URLSearchParams, body: Record<string, string>, authorization?: string): Reply | undefined } {
  const clients = new Map<string, FakeManagementClient>();
  const tokens = new Map<string, string[]>();
  const details = new Map<string, { app_metadata?: Record<string, unknown>; user_metadata?: Record<string, unknown>; blocked?: boolean }>();
  const roles: FakeRole[] = [];
  const userRoles = new Map<string, string[]>();
  const applications: FakeApplication[] = [];
  const resourceServers: Record<string, unknown>[] = [];
  const clientGrants: Record<string, unknown>[] = [];
  const connections: Record<string, unknown>[] = [];
  const faults: number[] = [];
  const calls: string[] = [];
  let issued = 0;

  function clientCredentials(body: Record<string, string>): Reply {
    const client = clients.get(body.client_id ?? '');
    if (!client || client.client_secret !== body.client_secret) return { status: 401, body: { error: 'access_denied', error_description: 'Unauthorized' } };
    if (body.audience !== `${opts.issuer}api/v2/`) {
      return { status: 403, body: { error: 'access_denied', error_description: `Service not found: ${body.audience}` } };
    }
    const token = randomBytes(24).toString('base64url');
    tokens.set(token, client.scopes);
    issued++;
    return { status: 200, body: { access_token: token, token_type: 'Bearer', expires_in: 86400, scope: client.scopes.join(' ') } };
  }

  /** Auth0 paging: a bare array, or `{start, limit, length, total, <key>}` with include_totals. */
  function page(key: string, all: unknown[], query: URLSearchParams): Reply {
    const perPage = Number(query.get('per_page') ?? 50);
    const pageNo = Number(query.get('page') ?? 0);
    const items = all.slice(pageNo * perPage, pageNo * perPage + perPage);
    if (query.get('include_totals') !== 'true') return { status: 200, body: items };
    return { status: 200, body: { start: pageNo * perPage, limit: perPage, length: items.length, total: all.length, [key]: items } };
  }

  function api(method: string, path: string, query: URLSearchParams, scopes: string[]): Reply {
    const need = (...required: string[]) => required.every((s) => scopes.includes(s));
    const forbidden = (...required: string[]) => mgmtError(403, 'Forbidden', `Insufficient scope, expected all of: ${required.join(',')}`, 'insufficient_scope');
    if (method !== 'GET') return mgmtError(404, 'Not Found', 'Not Found', 'not_found');
    const fullUser = (sub: string) => {
      const profile = opts.userProfile(sub);
      if (!profile) return undefined;
      const [provider, ...rest] = sub.split('|');
      return {
        ...profile,
        user_id: sub,
        identities: [{ provider, user_id: rest.join('|'), connection: profile.connection, isSocial: false }],
        app_metadata: {}, user_metadata: {}, blocked: false,
        ...details.get(sub),
      };
    };
    if (path === '/api/v2/users-by-email') {
      if (!need('read:users')) return forbidden('read:users');
      const email = query.get('email');
      if (!email) return mgmtError(400, 'Bad Request', 'Query validation error: Missing required property: email', 'invalid_query_string');
      return { status: 200, body: (opts.subsByEmail?.(email) ?? []).map(fullUser).filter(Boolean) };
    }
    let m = /^\/api\/v2\/users\/([^/]+)$/.exec(path);
    if (m) {
      if (!need('read:users')) return forbidden('read:users');
      const user = fullUser(decodeURIComponent(m[1]));
      if (!user) return mgmtError(404, 'Not Found', 'The user does not exist.', 'inexistent_user');
      return { status: 200, body: user };
    }
    m = /^\/api\/v2\/users\/([^/]+)\/roles$/.exec(path);
    if (m) {
      if (!need('read:users', 'read:roles')) return forbidden('read:users', 'read:roles');
      const ids = userRoles.get(decodeURIComponent(m[1])) ?? [];
      return page('roles', roles.filter((r) => ids.includes(r.id)).map(({ id, name, description }) => ({ id, name, description: description ?? '' })), query);
    }
    if (path === '/api/v2/roles') {
      if (!need('read:roles')) return forbidden('read:roles');
      return page('roles', roles.map(({ id, name, description }) => ({ id, name, description: description ?? '' })), query);
    }
    m = /^\/api\/v2\/roles\/([^/]+)\/permissions$/.exec(path);
    if (m) {
      if (!need('read:roles')) return forbidden('read:roles');
      const role = roles.find((r) => r.id === m![1]);
      if (!role) return mgmtError(404, 'Not Found', 'The role does not exist.', 'inexistent_role');
      return page('permissions', role.permissions.map((p) => ({ ...p, resource_server_name: '', description: '' })), query);
    }
    if (path === '/api/v2/clients') {
      if (!need('read:clients')) return forbidden('read:clients');
      const withKeys = need('read:client_keys');
      return page('clients', applications.map(({ client_secret, ...app }) => ({ ...app, ...(withKeys && client_secret ? { client_secret } : {}) })), query);
    }
    if (path === '/api/v2/resource-servers') {
      if (!need('read:resource_servers')) return forbidden('read:resource_servers');
      return page('resource_servers', resourceServers, query);
    }
    if (path === '/api/v2/client-grants') {
      if (!need('read:client_grants')) return forbidden('read:client_grants');
      return page('client_grants', clientGrants, query);
    }
    if (path === '/api/v2/connections') {
      if (!need('read:connections')) return forbidden('read:connections');
      const strategy = query.get('strategy');
      return page('connections', connections.filter((c) => !strategy || c.strategy === strategy), query);
    }
    return mgmtError(404, 'Not Found', 'Not Found', 'not_found');
  }

  return {
    handle(method, path, query, body, authorization) {
      if (path === '/oauth/token' && method === 'POST' && body.grant_type === 'client_credentials') return clientCredentials(body);
      if (!path.startsWith('/api/v2/')) return undefined;
      calls.push(`${path}${query.size ? `?${query}` : ''}`);
      const fault = faults.shift();
      if (fault === 429) return { status: 429, body: mgmtError(429, 'Too Many Requests', 'Global limit has been reached', 'too_many_requests').body, headers: { 'retry-after': '1' } };
      if (fault) return mgmtError(fault, 'Internal Server Error', 'Internal error', 'internal_error');
      const token = /^Bearer\s+(.+)$/i.exec(authorization ?? '')?.[1];
      const scopes = token ? tokens.get(token) : undefined;
      if (!scopes) return mgmtError(401, 'Unauthorized', 'Invalid token', 'invalid_token');
      return api(method, path, query, scopes);
    },
    addClient: (c) => void clients.set(c.client_id, c),
    setUserDetails: (sub, d) => void details.set(sub, d),
    addRole(r) {
      const role: FakeRole = { id: `rol_${randomBytes(8).toString('hex')}`, permissions: [], ...r };
      roles.push(role);
      return role;
    },
    assignRoles: (sub, ids) => void userRoles.set(sub, [...(userRoles.get(sub) ?? []), ...ids]),
    addApplication: (app) => void applications.push(app),
    addResourceServer: (rs) => void resourceServers.push({ id: randomBytes(12).toString('hex'), ...rs }),
    addClientGrant: (g) => void clientGrants.push({ id: `cgr_${randomBytes(8).toString('hex')}`, ...g }),
    addConnection: (c) => void connections.push({ id: `con_${randomBytes(8).toString('hex')}`, ...c }),
    failNext(status, count = 1) {
      for (let i = 0; i < count; i++) faults.push(status);
    },
    calls,
    tokensIssued: () => issued,
  };
}
