/**
 * Loopback stand-ins for the providers panva's oidc-provider cannot play, each answering as the
 * real one does on the wire:
 * - Apple: form_post callback with the `user` JSON on the first authorization only; the client
 *   secret must be an ES256 JWT (iss team id, sub Services ID, aud https://appleid.apple.com,
 *   kid) verified against the registered public key; RS256 id_tokens with string email_verified.
 * - Microsoft (v2 endpoint): `/{tenant}/v2.0` discovery whose multi-tenant issuer is the
 *   `{tenantid}` template; tokens whose `iss` names the account's tenant; Graph `/v1.0/me`.
 * - GitHub: OAuth authorize, `/login/oauth/access_token` (errors with status 200, as GitHub),
 *   REST `/user` and `/user/emails`. No OIDC.
 * Every provider shows a login page; the user picks an account or cancels.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, jwtVerify, SignJWT, type JWTPayload } from 'jose';

interface Pending {
  clientId: string;
  redirectUri: string;
  state?: string;
  nonce?: string;
  challenge?: string;
  scope: string;
  responseMode: 'query' | 'form_post';
  tenant?: string;
}
interface IssuedCode extends Pending {
  account: string;
  used: boolean;
}

const random = () => randomBytes(24).toString('base64url');
const escape = (v: string) => v.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function readForm(req: IncomingMessage): Promise<Record<string, string>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
}
function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
const bearer = (req: IncomingMessage) => /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];

interface Core {
  base: string;
  codes: Map<string, IssuedCode>;
  loginPage(res: ServerResponse, p: Pending): void;
  reply(res: ServerResponse, p: Pending, fields: Record<string, string | undefined>): void;
  /** What goes back to the app besides the code (or instead of it, on a cancel). */
  decide?: (p: Pending, account: string, cancel: boolean) => Record<string, string | undefined>;
}

/** The core every fake shares: a loopback server, its login page, the user's decision and one-time codes. */
async function startCore(route: (req: IncomingMessage, res: ServerResponse, url: URL, core: Core) => Promise<boolean>) {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const pending = new Map<string, Pending>();
  const codes = new Map<string, IssuedCode>();
  const core: Core = {
    base,
    codes,
    /** The provider's sign-in page for a validated authorization request. */
    loginPage(res: ServerResponse, p: Pending) {
      const id = random();
      pending.set(id, p);
      res.writeHead(200, { 'content-type': 'text/html' }).end(
        `<form method="post" action="/__decide"><input type="hidden" name="pending" value="${id}"><input name="account"><button name="decision" value="allow">Sign in</button><button name="decision" value="cancel">Cancel</button></form>`,
      );
    },
    /** Back to the application: a redirect (query) or an auto-submitted form (form_post). */
    reply(res: ServerResponse, p: Pending, fields: Record<string, string | undefined>) {
      const all = { ...fields, state: p.state };
      if (p.responseMode === 'form_post') {
        const inputs = Object.entries(all)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => `<input type="hidden" name="${k}" value="${escape(v!)}">`)
          .join('');
        res.writeHead(200, { 'content-type': 'text/html' }).end(`<form method="post" action="${escape(p.redirectUri)}">${inputs}</form><script>document.forms[0].submit()</script>`);
        return;
      }
      const to = new URL(p.redirectUri);
      for (const [k, v] of Object.entries(all)) if (v !== undefined) to.searchParams.set(k, v);
      res.writeHead(302, { location: to.toString() }).end();
    },
  };
  const c = core;
  server.on('request', (req, res) => {
    const url = new URL(req.url ?? '/', base);
    void (async () => {
      if (req.method === 'POST' && url.pathname === '/__decide') {
        const form = await readForm(req);
        const p = pending.get(form.pending);
        if (!p) return json(res, 400, { error: 'unknown_request' });
        pending.delete(form.pending);
        const cancel = form.decision === 'cancel';
        let fields: Record<string, string | undefined>;
        if (cancel) fields = c.decide!(p, form.account, true);
        else {
          const code = random();
          codes.set(code, { ...p, account: form.account, used: false });
          fields = { code, ...c.decide!(p, form.account, false) };
        }
        return core.reply(res, p, fields);
      }
      if (!(await route(req, res, url, c))) json(res, 404, { error: 'not_found' });
    })().catch((err) => {
      res.writeHead(500).end(String(err));
    });
  });
  const close = () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); });
  return { core: c, close };
}

/** Redeems a one-time code for the client and redirect URI it was issued to, PKCE checked when it was asked. */
function takeCode(codes: Map<string, IssuedCode>, form: Record<string, string>): IssuedCode | undefined {
  const issued = codes.get(form.code ?? '');
  if (!issued || issued.used || issued.clientId !== form.client_id || issued.redirectUri !== form.redirect_uri) return undefined;
  if (issued.challenge && createHash('sha256').update(form.code_verifier ?? '').digest('base64url') !== issued.challenge) return undefined;
  issued.used = true;
  return issued;
}

async function signingKey() {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = random().slice(0, 10);
  return { privateKey, kid, jwks: { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }] } };
}

// ---------------------------------------------------------------------------------------------
// Apple

export interface AppleAccount {
  email?: string;
  email_verified?: boolean;
  is_private_email?: boolean;
  firstName?: string;
  lastName?: string;
}

export async function startFakeApple(opts: { redirectUris: string[] }) {
  const teamId = 'TEAM123456';
  const keyId = 'KEY1234567';
  const clientId = 'com.example.web.signin';
  const { privateKey: p8Key, publicKey: p8Public } = await generateKeyPair('ES256', { extractable: true });
  const { exportPKCS8 } = await import('jose');
  const privateKeyPem = await exportPKCS8(p8Key);
  const signing = await signingKey();
  const accounts = new Map<string, AppleAccount>();
  const authorized = new Set<string>();
  /** Why each refused client secret was refused (what Apple's logs would say). */
  const refusals: string[] = [];
  /** The client secrets Apple accepted, decoded. */
  const clientSecrets: { header: Record<string, unknown>; payload: JWTPayload }[] = [];
  const started = await startCore(async (req, res, url, core) => {
    const { base } = core;
    if (url.pathname === '/.well-known/openid-configuration') {
      json(res, 200, {
        issuer: base,
        authorization_endpoint: `${base}/auth/authorize`,
        token_endpoint: `${base}/auth/token`,
        jwks_uri: `${base}/auth/keys`,
        response_types_supported: ['code'],
        response_modes_supported: ['query', 'fragment', 'form_post'],
        id_token_signing_alg_values_supported: ['RS256'],
        scopes_supported: ['openid', 'email', 'name'],
        token_endpoint_auth_methods_supported: ['client_secret_post'],
      });
      return true;
    }
    if (url.pathname === '/auth/keys') return json(res, 200, signing.jwks), true;
    if (url.pathname === '/auth/authorize' && req.method === 'GET') {
      const q = Object.fromEntries(url.searchParams);
      if (q.client_id !== clientId || !opts.redirectUris.includes(q.redirect_uri)) return json(res, 400, { error: 'invalid_client' }), true;
      const scope = q.scope ?? '';
      // Apple: asking for name or email requires form_post.
      if (scope && q.response_mode !== 'form_post') return json(res, 400, { error: 'invalid_request', error_description: 'response_mode must be form_post when name or email scope is requested' }), true;
      core.loginPage(res, { clientId: q.client_id, redirectUri: q.redirect_uri, state: q.state, nonce: q.nonce, scope, responseMode: 'form_post' });
      return true;
    }
    if (url.pathname === '/auth/token' && req.method === 'POST') {
      const form = await readForm(req);
      try {
        const { payload, protectedHeader } = await jwtVerify(form.client_secret ?? '', p8Public, {
          algorithms: ['ES256'],
          issuer: teamId,
          subject: form.client_id,
          audience: 'https://appleid.apple.com',
          requiredClaims: ['iat', 'exp'],
        });
        if (protectedHeader.kid !== keyId) throw new Error('kid');
        if (payload.exp! - payload.iat! > 15777000) throw new Error('lifetime');
        clientSecrets.push({ header: protectedHeader, payload });
      } catch (err) {
        refusals.push((err as Error).message);
        return json(res, 400, { error: 'invalid_client' }), true;
      }
      if (form.client_id !== clientId || form.grant_type !== 'authorization_code') return json(res, 400, { error: 'invalid_client' }), true;
      const issued = takeCode(core.codes, form);
      if (!issued) return json(res, 400, { error: 'invalid_grant' }), true;
      const account = accounts.get(issued.account) ?? {};
      const now = Math.floor(Date.now() / 1000);
      const claims: JWTPayload = {
        sub: issued.account,
        at_hash: random().slice(0, 22),
        auth_time: now,
        nonce_supported: true,
        ...(issued.nonce ? { nonce: issued.nonce } : {}),
        ...(account.email && issued.scope.includes('email')
          ? { email: account.email, email_verified: String(account.email_verified ?? true), is_private_email: String(account.is_private_email ?? false) }
          : {}),
      };
      const idToken = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: signing.kid })
        .setIssuer(base)
        .setAudience(clientId)
        .setIssuedAt(now)
        .setExpirationTime(now + 600)
        .sign(signing.privateKey);
      json(res, 200, { access_token: random(), token_type: 'Bearer', expires_in: 3600, refresh_token: random(), id_token: idToken });
      return true;
    }
    return false;
  });
  started.core.decide = (p, account, cancel) => {
    if (cancel) return { error: 'user_cancelled_authorize' };
    // The name and email come as `user` JSON on the first authorization of this app only.
    const first = !authorized.has(account);
    authorized.add(account);
    const a = accounts.get(account) ?? {};
    return first && p.scope.includes('name')
      ? { user: JSON.stringify({ name: { firstName: a.firstName, lastName: a.lastName }, email: a.email }) }
      : {};
  };
  return { base: started.core.base, teamId, keyId, clientId, privateKeyPem, accounts, refusals, clientSecrets, close: started.close };
}

// ---------------------------------------------------------------------------------------------
// Microsoft

export const CONSUMERS_TID = '9188040d-6c67-4c5b-b112-36a304b66dad';

export interface MicrosoftAccount {
  tid: string;
  /** Graph's `/me` id: 16 hex digits for a personal account, the object id for a work account. */
  graphId: string;
  oid: string;
  name?: string;
  givenName?: string;
  surname?: string;
  email?: string;
  preferred_username?: string;
  /** Misbehaviour: the token's issuer names this tenant instead of the account's. */
  issuerTid?: string;
}

export async function startFakeMicrosoft(opts: { redirectUris: string[] }) {
  const clientId = '6731de76-14a6-49ae-97bc-6eba6914391e';
  const clientSecret = 'microsoft-app-secret-0123456789';
  const signing = await signingKey();
  const accounts = new Map<string, MicrosoftAccount>();
  const accessTokens = new Map<string, string>();
  const MULTI = new Set(['common', 'organizations']);
  const started = await startCore(async (req, res, url, core) => {
    const { base } = core;
    const m = /^\/([^/]+)\/(v2\.0\/\.well-known\/openid-configuration|oauth2\/v2\.0\/authorize|oauth2\/v2\.0\/token|discovery\/v2\.0\/keys)$/.exec(url.pathname);
    if (m) {
      const [, tenant, what] = m;
      if (what.startsWith('v2.0')) {
        const issuerTenant = MULTI.has(tenant) ? '{tenantid}' : tenant === 'consumers' ? CONSUMERS_TID : tenant;
        return json(res, 200, {
          issuer: `${base}/${issuerTenant}/v2.0`,
          authorization_endpoint: `${base}/${tenant}/oauth2/v2.0/authorize`,
          token_endpoint: `${base}/${tenant}/oauth2/v2.0/token`,
          jwks_uri: `${base}/${tenant}/discovery/v2.0/keys`,
          response_modes_supported: ['query', 'fragment', 'form_post'],
          token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
          id_token_signing_alg_values_supported: ['RS256'],
        }), true;
      }
      if (what.startsWith('discovery')) return json(res, 200, signing.jwks), true;
      if (what.endsWith('authorize') && req.method === 'GET') {
        const q = Object.fromEntries(url.searchParams);
        if (q.client_id !== clientId || !opts.redirectUris.includes(q.redirect_uri)) return json(res, 400, { error: 'invalid_request' }), true;
        core.loginPage(res, { clientId, redirectUri: q.redirect_uri, state: q.state, nonce: q.nonce, challenge: q.code_challenge, scope: q.scope ?? '', responseMode: q.response_mode === 'form_post' ? 'form_post' : 'query', tenant });
        return true;
      }
      if (what.endsWith('token') && req.method === 'POST') {
        const form = await readForm(req);
        if (form.client_id !== clientId || form.client_secret !== clientSecret) {
          return json(res, 401, { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.' }), true;
        }
        const issued = takeCode(core.codes, form);
        const account = issued && accounts.get(issued.account);
        if (!issued || !account) return json(res, 400, { error: 'invalid_grant', error_description: 'AADSTS70008: The provided authorization code or refresh token has expired.' }), true;
        const now = Math.floor(Date.now() / 1000);
        const idToken = await new SignJWT({
          ver: '2.0',
          tid: account.tid,
          oid: account.oid,
          name: account.name,
          preferred_username: account.preferred_username,
          ...(account.email ? { email: account.email } : {}),
          ...(issued.nonce ? { nonce: issued.nonce } : {}),
        })
          .setProtectedHeader({ alg: 'RS256', kid: signing.kid, typ: 'JWT' })
          .setIssuer(`${base}/${account.issuerTid ?? account.tid}/v2.0`)
          .setAudience(clientId)
          .setSubject(`pairwise-${issued.account}`)
          .setIssuedAt(now)
          .setExpirationTime(now + 3600)
          .sign(signing.privateKey);
        const accessToken = random();
        accessTokens.set(accessToken, issued.account);
        json(res, 200, { token_type: 'Bearer', scope: issued.scope, expires_in: 3600, access_token: accessToken, id_token: idToken });
        return true;
      }
    }
    if (url.pathname === '/v1.0/me') {
      const account = accounts.get(accessTokens.get(bearer(req) ?? '') ?? '');
      if (!account) return json(res, 401, { error: { code: 'InvalidAuthenticationToken', message: 'Access token is empty.' } }), true;
      json(res, 200, { id: account.graphId, displayName: account.name, givenName: account.givenName ?? null, surname: account.surname ?? null, mail: account.email ?? null, userPrincipalName: account.preferred_username });
      return true;
    }
    return false;
  });
  started.core.decide = (_p, _account, cancel) =>
    cancel ? { error: 'access_denied', error_subcode: 'cancel', error_description: 'AADSTS65004: User declined to consent to access the app.' } : {};
  return { base: started.core.base, clientId, clientSecret, accounts, close: started.close };
}

// ---------------------------------------------------------------------------------------------
// GitHub

export interface GitHubAccount {
  id: number;
  login: string;
  name?: string | null;
  avatar_url?: string;
  emails?: { email: string; primary: boolean; verified: boolean }[];
}

export async function startFakeGitHub(opts: { redirectUris: string[] }) {
  const clientId = 'Iv1.0123456789abcdef';
  const clientSecret = 'github-oauth-app-secret-0123456789abcdef';
  const accounts = new Map<string, GitHubAccount>();
  const accessTokens = new Map<string, { account: string; scope: string }>();
  const started = await startCore(async (req, res, url, core) => {
    if (url.pathname === '/login/oauth/authorize' && req.method === 'GET') {
      const q = Object.fromEntries(url.searchParams);
      if (q.client_id !== clientId) return json(res, 404, { error: 'not_found' }), true;
      if (!opts.redirectUris.includes(q.redirect_uri)) {
        return core.reply(res, { clientId, redirectUri: q.redirect_uri, state: q.state, scope: '', responseMode: 'query' }, { error: 'redirect_uri_mismatch' }), true;
      }
      core.loginPage(res, { clientId, redirectUri: q.redirect_uri, state: q.state, challenge: q.code_challenge, scope: q.scope ?? '', responseMode: 'query' });
      return true;
    }
    if (url.pathname === '/login/oauth/access_token' && req.method === 'POST') {
      const form = await readForm(req);
      // GitHub answers its OAuth errors with status 200.
      if (form.client_id !== clientId || form.client_secret !== clientSecret) {
        return json(res, 200, { error: 'incorrect_client_credentials', error_description: 'The client_id and/or client_secret passed are incorrect.' }), true;
      }
      const issued = takeCode(core.codes, form);
      if (!issued) return json(res, 200, { error: 'bad_verification_code', error_description: 'The code passed is incorrect or expired.' }), true;
      const accessToken = `gho_${random()}`;
      accessTokens.set(accessToken, { account: issued.account, scope: issued.scope });
      json(res, 200, { access_token: accessToken, token_type: 'bearer', scope: issued.scope.split(' ').join(',') });
      return true;
    }
    if (url.pathname === '/user' || url.pathname === '/user/emails') {
      if (!req.headers['user-agent']) return json(res, 403, { message: 'Request forbidden by administrative rules. Please make sure your request has a User-Agent header.' }), true;
      const grant = accessTokens.get(bearer(req) ?? '');
      const account = grant && accounts.get(grant.account);
      if (!grant || !account) return json(res, 401, { message: 'Bad credentials' }), true;
      if (url.pathname === '/user') {
        return json(res, 200, { login: account.login, id: account.id, avatar_url: account.avatar_url ?? null, html_url: `https://github.com/${account.login}`, name: account.name ?? null, email: null }), true;
      }
      if (!grant.scope.split(' ').includes('user:email')) return json(res, 404, { message: 'Not Found' }), true;
      return json(res, 200, (account.emails ?? []).map((e) => ({ ...e, visibility: e.primary ? 'private' : null }))), true;
    }
    return false;
  });
  started.core.decide = (_p, _account, cancel) =>
    cancel ? { error: 'access_denied', error_description: 'The user has denied your application access.' } : {};
  return { base: started.core.base, clientId, clientSecret, accounts, close: started.close };
}

/**
 * Walks a fake provider's login page like a user: pick an account (or cancel), then return what
 * the provider sends the browser to: a URL to GET, or a form to POST (form_post).
 */
export async function throughFakeProvider(startUrl: string, p: { account: string; cancel?: boolean }): Promise<{ url: string; form?: Record<string, string> }> {
  const page = await fetch(startUrl, { redirect: 'manual' });
  const body = await page.text();
  if (page.status !== 200) throw new Error(`provider answered ${page.status}: ${body.slice(0, 200)}`);
  const pending = /name="pending" value="([^"]+)"/.exec(body)?.[1];
  if (!pending) throw new Error(`no login page: ${body.slice(0, 200)}`);
  const res = await fetch(new URL('/__decide', startUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ pending, account: p.account, decision: p.cancel ? 'cancel' : 'allow' }),
    redirect: 'manual',
  });
  if (res.status === 302) return { url: res.headers.get('location')! };
  const html = await res.text();
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  if (!action) throw new Error(`provider answered ${res.status}: ${html.slice(0, 200)}`);
  const form: Record<string, string> = {};
  const unescape = (v: string) => v.replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n)));
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) form[m[1]] = unescape(m[2]);
  return { url: unescape(action), form };
}
