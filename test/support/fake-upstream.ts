/**
 * A fake upstream Auth0 tenant over loopback HTTP that answers the way Auth0 does
 * (status codes, error bodies, rotating refresh tokens, RS256 id_tokens, JWKS, discovery),
 * with scripted faults so tests can drive timeouts, 429s, 5xx and malformed answers.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { createFakeManagementApi, type FakeManagementApi } from './fake-upstream-management.js';
import { discoveryOf, endpointOf, flattenHeaders, globalLimitReply, parseBasic, parseBody, readBody, scopesOf, send, type Reply } from './fake-upstream-http.js';

export type FakeEndpoint = 'token' | 'userinfo' | 'jwks';
export type FakeFault =
  /** The tenant-wide limit (Auth0's `too_many_requests`, "Global limit has been reached", X-RateLimit-* headers). */
  | { status: 429; retryAfter?: number }
  /** A 429 with nothing that says what it means: no error body, no rate-limit headers, maybe a Retry-After. */
  | { status: 429; ambiguous: true; retryAfter?: number }
  /** The global limit as Auth0 sometimes reports it on the token endpoint: a 500 `access_denied`. */
  | { status: 500; globalLimit: true }
  | { status: 500 | 502 | 503 }
  | { hang: true }
  /** Answers late; `during` runs when the request arrives (e.g. moves a test's clock on while the call is in flight). */
  | { delayMs: number; during?: () => void }
  | { malformed: true };

export interface FakeClient { client_id: string; client_secret?: string; grant_types: string[] }
export interface FakeUser {
  email: string; password: string; sub: string; name: string; given_name?: string; family_name?: string;
  nickname: string; picture: string; email_verified: boolean; mfa: boolean; connection: string; updated_at: string;
}
export type FakeUserInput = Partial<Omit<FakeUser, 'email' | 'password'>> & { email: string; password: string };
export interface RecordedRequest {
  endpoint: FakeEndpoint | 'discovery' | 'other';
  method: string; path: string; body: Record<string, string>; headers: Record<string, string>; at: number;
}

export interface FakeUpstream {
  url: string; domain: string; issuer: string; tokenEndpoint: string; userinfoEndpoint: string; jwksUri: string;
  clients: { addClient(c: { client_id: string; client_secret?: string; grant_types?: string[] }): FakeClient };
  addClient(c: { client_id: string; client_secret?: string; grant_types?: string[] }): FakeClient;
  addUser(u: FakeUserInput): FakeUser;
  issueRefreshToken(p: { sub: string; client_id: string; scope: string }): string;
  failNext(endpoint: FakeEndpoint, fault: FakeFault, count?: number): void;
  setLatency(ms: number): void;
  /**
   * Auth0's tenant-wide limit of the Authentication API: at most `requestsPerSecond` token and
   * /userinfo requests per calendar second; the others get 429 `too_many_requests` with
   * X-RateLimit-Limit/-Remaining/-Reset and Retry-After. Undefined lifts the limit.
   */
  setGlobalLimit(requestsPerSecond: number | undefined): void;
  /** Blocks an account the way Auth0's brute-force protection does: its logins get 429 `too_many_attempts`. */
  blockAccount(email: string): void;
  /** Token and /userinfo requests per calendar second (epoch second → count), limited or not. */
  callsPerSecond(): Map<number, number>;
  /** How many requests the global limit refused (429). */
  globalLimitRefusals(): number;
  requests: RecordedRequest[];
  requestsTo(endpoint: RecordedRequest['endpoint']): RecordedRequest[];
  /** The upstream's Management API (see fake-upstream-management.ts). */
  management: FakeManagementApi;
  reset(): void;
  close(): Promise<void>;
}

export const PASSWORD_REALM_GRANT = 'http://auth0.com/oauth/grant-type/password-realm';
export const DEFAULT_CONNECTION = 'Username-Password-Authentication';
const ALL_GRANTS = ['password', PASSWORD_REALM_GRANT, 'refresh_token'];
const PROFILE_CLAIMS = ['name', 'nickname', 'given_name', 'family_name', 'picture', 'updated_at'] as const;
const EMAIL_CLAIMS = ['email', 'email_verified'] as const;

interface Grant { sub: string; client_id: string; scope: string }
const oauthError = (status: number, error: string, error_description: string, extra = {}): Reply => ({
  status, body: { error, error_description, ...extra },
});
const randomToken = (bytes: number) => randomBytes(bytes).toString('base64url');

export async function startFakeUpstream(opts: { latencyMs?: number; globalLimit?: number } = {}): Promise<FakeUpstream> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = `fake-${randomToken(6)}`;
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, use: 'sig', alg: 'RS256' };

  const clients = new Map<string, FakeClient>();
  const users: FakeUser[] = [];
  const accessTokens = new Map<string, Grant>();
  const refreshTokens = new Map<string, Grant & { used: boolean }>();
  const faults: Record<FakeEndpoint, Array<{ fault: FakeFault; remaining: number }>> = { token: [], userinfo: [], jwks: [] };
  const pendingTimers = new Set<NodeJS.Timeout>();
  const requests: RecordedRequest[] = [];
  let latencyMs = opts.latencyMs ?? 0;
  let url = '';
  let globalLimit = opts.globalLimit;
  const blockedAccounts = new Set<string>();
  const perSecond = new Map<number, number>();
  let refusals = 0;

  /** Counts an Authentication API request in its second; a 429 reply when it is over the limit. */
  function overGlobalLimit(): Reply | undefined {
    const second = Math.floor(Date.now() / 1000);
    const count = (perSecond.get(second) ?? 0) + 1;
    perSecond.set(second, count);
    if (globalLimit === undefined || count <= globalLimit) return undefined;
    refusals += 1;
    return globalLimitReply(1, globalLimit);
  }

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => { pendingTimers.delete(t); resolve(); }, ms);
      pendingTimers.add(t);
    });

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) send(res, { status: 500, body: { error: 'server_error', error_description: String(err) } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  url = `http://127.0.0.1:${port}`;
  const issuer = `${url}/`;
  const management = createFakeManagementApi({
    issuer,
    userProfile(sub) {
      const u = users.find((x) => x.sub === sub);
      if (!u) return undefined;
      const { password: _password, mfa: _mfa, sub: _sub, ...profile } = u;
      return profile;
    },
    subsByEmail: (email) => users.filter((u) => u.email.toLowerCase() === email.toLowerCase()).map((u) => u.sub),
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', url).pathname;
    const endpoint = endpointOf(path);
    const body = parseBody(await readBody(req), req.headers['content-type']);
    requests.push({ endpoint, method: req.method ?? 'GET', path, body, headers: flattenHeaders(req), at: Date.now() });

    const managed = management.handle(req.method ?? 'GET', path, new URL(req.url ?? '/', url).searchParams, body, req.headers.authorization);
    if (managed) {
      if (latencyMs > 0) await sleep(latencyMs);
      send(res, managed);
      return;
    }
    const limited = endpoint === 'token' || endpoint === 'userinfo' ? overGlobalLimit() : undefined;
    if (limited) {
      send(res, limited);
      return;
    }
    const fault = endpoint === 'token' || endpoint === 'userinfo' || endpoint === 'jwks' ? takeFault(endpoint) : undefined;
    if (fault && 'hang' in fault) return; // answered never; close() destroys the socket
    if (latencyMs > 0) await sleep(latencyMs);
    if (fault && 'delayMs' in fault) {
      fault.during?.();
      await sleep(fault.delayMs);
    }
    if (fault && 'malformed' in fault) {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>upstream hiccup</body></html>');
      return;
    }
    if (fault && 'status' in fault) {
      send(res, faultReply(fault));
      return;
    }
    send(res, await route(endpoint, req.method ?? 'GET', body, req));
  }

  function takeFault(endpoint: FakeEndpoint): FakeFault | undefined {
    const queue = faults[endpoint];
    const head = queue[0];
    if (!head) return undefined;
    head.remaining -= 1;
    if (head.remaining <= 0) queue.shift();
    return head.fault;
  }

  function faultReply(fault: Extract<FakeFault, { status: number }>): Reply {
    if (fault.status === 429 && 'ambiguous' in fault) {
      return { status: 429, body: 'Too Many Requests', headers: fault.retryAfter !== undefined ? { 'retry-after': String(fault.retryAfter) } : {} };
    }
    if (fault.status === 429) return globalLimitReply(fault.retryAfter ?? 1, 25);
    if (fault.status === 500 && 'globalLimit' in fault) {
      return { status: 500, body: { error: 'access_denied', error_description: 'Global limit has been reached' } };
    }
    if (fault.status === 500) return { status: 500, body: { error: 'server_error', error_description: 'Internal Server Error' } };
    return { status: fault.status, body: `<html><body>${fault.status} Service Unavailable</body></html>` };
  }

  async function route(endpoint: RecordedRequest['endpoint'], method: string, body: Record<string, string>, req: IncomingMessage): Promise<Reply> {
    if (endpoint === 'token' && method === 'POST') return tokenEndpoint(body, req.headers.authorization);
    if (endpoint === 'userinfo' && (method === 'GET' || method === 'POST')) return userinfo(req.headers.authorization);
    if (endpoint === 'jwks' && method === 'GET') return { status: 200, body: { keys: [publicJwk] } };
    if (endpoint === 'discovery' && method === 'GET') return { status: 200, body: discoveryOf(url, PASSWORD_REALM_GRANT) };
    return { status: 404, body: { statusCode: 404, error: 'Not Found', message: 'Not Found' } };
  }

  async function tokenEndpoint(body: Record<string, string>, authorization: string | undefined): Promise<Reply> {
    const basic = parseBasic(authorization);
    const clientId = body.client_id ?? basic?.id;
    const clientSecret = body.client_secret ?? basic?.secret;
    const grantType = body.grant_type;
    if (!grantType) return oauthError(400, 'invalid_request', 'Missing required parameter: grant_type');
    if (!ALL_GRANTS.includes(grantType)) return oauthError(400, 'unsupported_grant_type', `Unsupported grant type: ${grantType}`);
    if (!clientId) return oauthError(401, 'access_denied', 'Unauthorized');
    const client = clients.get(clientId);
    if (!client || (client.client_secret !== undefined && client.client_secret !== clientSecret)) {
      return oauthError(401, 'access_denied', 'Unauthorized');
    }
    if (!client.grant_types.includes(grantType)) {
      return oauthError(403, 'unauthorized_client', `Grant type '${grantType}' not allowed for the client.`);
    }
    if (grantType === 'refresh_token') return refreshGrant(client, body);
    return passwordGrant(client, body);
  }

  async function passwordGrant(client: FakeClient, body: Record<string, string>): Promise<Reply> {
    if (!body.username) return oauthError(400, 'invalid_request', 'Missing required parameter: username');
    if (!body.password) return oauthError(400, 'invalid_request', 'Missing required parameter: password');
    if (body.grant_type === PASSWORD_REALM_GRANT && !body.realm) {
      return oauthError(400, 'invalid_request', 'Missing required parameter: realm');
    }
    const realm = body.realm ?? DEFAULT_CONNECTION;
    const user = users.find((u) => u.email.toLowerCase() === body.username.toLowerCase() && u.connection === realm);
    if (user && blockedAccounts.has(user.email.toLowerCase())) {
      return oauthError(429, 'too_many_attempts', 'Your account has been blocked after multiple consecutive login attempts.');
    }
    if (!user || user.password !== body.password) return oauthError(403, 'invalid_grant', 'Wrong email or password.');
    if (user.mfa) {
      return oauthError(403, 'mfa_required', 'Multifactor authentication required', { mfa_token: randomToken(32) });
    }
    return issueTokens(user, client.client_id, body.scope ?? '', body.audience, 'password', true);
  }

  async function refreshGrant(client: FakeClient, body: Record<string, string>): Promise<Reply> {
    const invalid = oauthError(403, 'invalid_grant', 'Unknown or invalid refresh token.');
    const stored = body.refresh_token ? refreshTokens.get(body.refresh_token) : undefined;
    if (!stored || stored.used || stored.client_id !== client.client_id) return invalid;
    const user = users.find((u) => u.sub === stored.sub);
    if (!user) return invalid;
    const original = scopesOf(stored.scope);
    const requested = body.scope ? scopesOf(body.scope) : original;
    if (requested.some((s) => !original.includes(s))) {
      return oauthError(403, 'invalid_scope', 'Scope must be a subset of the original grant.');
    }
    stored.used = true; // rotating: a redeemed token dies, the response carries its successor
    const reply = await issueTokens(user, client.client_id, requested.join(' '), undefined, 'refresh_token', false);
    const successor = mintRefreshToken({ sub: user.sub, client_id: client.client_id, scope: stored.scope });
    (reply.body as Record<string, unknown>).refresh_token = successor;
    if (!original.includes('openid')) delete (reply.body as Record<string, unknown>).id_token;
    return reply;
  }

  async function issueTokens(user: FakeUser, clientId: string, scope: string, audience: string | undefined, gty: string, withRefresh: boolean): Promise<Reply> {
    const scopes = scopesOf(scope);
    const now = Math.floor(Date.now() / 1000);
    let accessToken = randomToken(32);
    if (audience) {
      const aud = scopes.includes('openid') ? [audience, `${issuer}userinfo`] : audience;
      accessToken = await sign({ sub: user.sub, aud, azp: clientId, scope, gty }, now, 86400);
    }
    accessTokens.set(accessToken, { sub: user.sub, client_id: clientId, scope });
    const body: Record<string, unknown> = { access_token: accessToken, token_type: 'Bearer', expires_in: 86400 };
    if (scope) body.scope = scope;
    if (scopes.includes('openid')) {
      body.id_token = await sign({ sub: user.sub, aud: clientId, ...claimsFor(user, scopes) }, now, 36000);
    }
    if (withRefresh && scopes.includes('offline_access')) {
      body.refresh_token = mintRefreshToken({ sub: user.sub, client_id: clientId, scope });
    }
    return { status: 200, body, headers: { 'cache-control': 'no-store', pragma: 'no-cache' } };
  }

  function sign(claims: Record<string, unknown>, now: number, lifetime: number): Promise<string> {
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid })
      .setIssuer(issuer)
      .setIssuedAt(now)
      .setExpirationTime(now + lifetime)
      .sign(privateKey as CryptoKey);
  }

  function claimsFor(user: FakeUser, scopes: string[]): Record<string, unknown> {
    const claims: Record<string, unknown> = { sub: user.sub };
    const pick = (names: readonly (keyof FakeUser)[]) => {
      for (const n of names) if (user[n] !== undefined) claims[n] = user[n];
    };
    if (scopes.includes('profile')) pick(PROFILE_CLAIMS);
    if (scopes.includes('email')) pick(EMAIL_CLAIMS);
    return claims;
  }

  function userinfo(authorization: string | undefined): Reply {
    const token = /^Bearer\s+(.+)$/i.exec(authorization ?? '')?.[1];
    const grant = token ? accessTokens.get(token) : undefined;
    const user = grant ? users.find((u) => u.sub === grant.sub) : undefined;
    if (!grant || !user) {
      return {
        status: 401,
        body: 'Unauthorized',
        headers: { 'www-authenticate': `Bearer realm="${url}", error="invalid_token", error_description="Invalid access token"` },
      };
    }
    return { status: 200, body: claimsFor(user, scopesOf(grant.scope)) };
  }

  function mintRefreshToken(grant: Grant): string {
    const token = `v1.M${randomToken(42)}`;
    refreshTokens.set(token, { ...grant, used: false });
    return token;
  }

  const addClient: FakeUpstream['addClient'] = (c) => {
    const client: FakeClient = { client_id: c.client_id, client_secret: c.client_secret, grant_types: c.grant_types ?? ALL_GRANTS };
    clients.set(client.client_id, client);
    return client;
  };

  return {
    url, domain: `127.0.0.1:${port}`, issuer,
    tokenEndpoint: `${url}/oauth/token`,
    userinfoEndpoint: `${url}/userinfo`,
    jwksUri: `${url}/.well-known/jwks.json`,
    clients: { addClient },
    addClient,
    addUser(input) {
      const local = input.email.split('@')[0] ?? input.email;
      const user: FakeUser = {
        sub: `auth0|${randomBytes(12).toString('hex')}`,
        name: input.email,
        nickname: local,
        picture: `https://s.gravatar.com/avatar/${randomBytes(16).toString('hex')}?s=480&r=pg&d=mp`,
        email_verified: false,
        mfa: false,
        connection: DEFAULT_CONNECTION,
        updated_at: new Date().toISOString(),
        ...input,
      };
      users.push(user);
      return user;
    },
    issueRefreshToken: (p) => mintRefreshToken(p),
    failNext(endpoint, fault, count = 1) {
      faults[endpoint].push({ fault, remaining: count });
    },
    setLatency(ms) {
      latencyMs = ms;
    },
    setGlobalLimit(requestsPerSecond) {
      globalLimit = requestsPerSecond;
    },
    blockAccount(email) {
      blockedAccounts.add(email.toLowerCase());
    },
    callsPerSecond: () => new Map(perSecond),
    globalLimitRefusals: () => refusals,
    requests,
    requestsTo: (endpoint) => requests.filter((r) => r.endpoint === endpoint),
    management,
    reset() {
      requests.length = 0;
      for (const queue of Object.values(faults)) queue.length = 0;
      latencyMs = opts.latencyMs ?? 0;
      globalLimit = opts.globalLimit;
      blockedAccounts.clear();
      perSecond.clear();
      refusals = 0;
    },
    async close() {
      for (const t of pendingTimers) clearTimeout(t);
      pendingTimers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
