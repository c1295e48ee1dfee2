/** The HTTP plumbing of the fake upstream Auth0 (fake-upstream.ts): bodies, headers, replies, discovery. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RecordedRequest } from './fake-upstream.js';

export type Reply = { status: number; body: unknown; headers?: Record<string, string> };

/** Auth0's answer when the tenant-wide limit is reached: 429 with the rate-limit headers. */
export function globalLimitReply(retryAfter: number, limit: number): Reply {
  return {
    status: 429,
    body: { error: 'too_many_requests', error_description: 'Global limit has been reached' },
    headers: {
      'retry-after': String(retryAfter),
      'x-ratelimit-limit': String(limit),
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000) + retryAfter),
    },
  };
}

export function endpointOf(path: string): RecordedRequest['endpoint'] {
  if (path === '/oauth/token') return 'token';
  if (path === '/userinfo') return 'userinfo';
  if (path === '/.well-known/jwks.json') return 'jwks';
  if (path === '/.well-known/openid-configuration') return 'discovery';
  return 'other';
}

export function scopesOf(scope: string): string[] {
  return scope.split(/\s+/).filter(Boolean);
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function parseBody(raw: string, contentType: string | undefined): Record<string, string> {
  if (!raw) return {};
  if (contentType?.includes('application/json')) {
    try {
      const parsed = JSON.parse(raw) as Record<string, unknown>;
      return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
    } catch {
      return {};
    }
  }
  return Object.fromEntries(new URLSearchParams(raw));
}

export function parseBasic(authorization: string | undefined): { id: string; secret: string } | undefined {
  const encoded = /^Basic\s+(.+)$/i.exec(authorization ?? '')?.[1];
  if (!encoded) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { id: decodeURIComponent(decoded.slice(0, colon)), secret: decodeURIComponent(decoded.slice(colon + 1)) };
}

export function flattenHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

export function send(res: ServerResponse, reply: Reply): void {
  if (res.destroyed) return;
  const isText = typeof reply.body === 'string';
  res.writeHead(reply.status, {
    'content-type': isText ? 'text/html; charset=utf-8' : 'application/json; charset=utf-8',
    ...reply.headers,
  });
  res.end(isText ? (reply.body as string) : JSON.stringify(reply.body));
}

/** The discovery document of a tenant served at `url`. */
export function discoveryOf(url: string, passwordRealmGrant: string): Record<string, unknown> {
  const issuer = `${url}/`;
  return {
    issuer,
    authorization_endpoint: `${url}/authorize`,
    token_endpoint: `${url}/oauth/token`,
    userinfo_endpoint: `${url}/userinfo`,
    jwks_uri: `${url}/.well-known/jwks.json`,
    revocation_endpoint: `${url}/oauth/revoke`,
    scopes_supported: ['openid', 'profile', 'offline_access', 'name', 'given_name', 'family_name', 'nickname', 'email', 'email_verified', 'picture', 'created_at', 'identities', 'phone', 'address'],
    response_types_supported: ['code', 'token', 'id_token', 'code token', 'code id_token', 'token id_token', 'code token id_token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['HS256', 'RS256', 'PS256'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    grant_types_supported: ['authorization_code', 'implicit', 'refresh_token', 'password', passwordRealmGrant],
    claims_supported: ['aud', 'auth_time', 'created_at', 'email', 'email_verified', 'exp', 'family_name', 'given_name', 'iat', 'identities', 'iss', 'name', 'nickname', 'phone_number', 'picture', 'sub'],
    code_challenge_methods_supported: ['S256', 'plain'],
  };
}
