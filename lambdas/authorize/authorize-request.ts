import type { TenantContext } from '../http/tenant-context.js';
import { OAuthError } from '../oauth/errors.js';
import { grantableScope, resolveAudience } from '../oauth/issue-tokens.js';
import type { ClientRecord, ConnectionRecord } from '../store/records.js';
import type { AuthorizeRequest, ResponseMode } from '../store/login-records.js';
import { connectionByName } from '../store/tenant-config-repository.js';
import { isSocialConnection } from '../social/social-strategies.js';

// Stored with the pending login, so the shapes are records (store/login-records.ts).
export type { AuthorizeRequest } from '../store/login-records.js';

/** Where (and how) an error or a code is sent back to the client. */
export interface ReplyTarget {
  redirect_uri: string;
  response_mode: ResponseMode;
  state?: string;
}

export type AuthorizeValidation =
  | { kind: 'ok'; request: AuthorizeRequest; client: ClientRecord; connection: ConnectionRecord; connectionAsked: boolean }
  /** Bad client or redirect_uri: nothing may be sent to the redirect_uri, the page says it. */
  | { kind: 'page'; error: string; description: string }
  | { kind: 'redirect'; target: ReplyTarget; error: string; description: string };

const PKCE_CHALLENGE = /^[A-Za-z0-9_-]{43,128}$/;
const MAX_PARAM = 2048;

function param(query: Record<string, string | undefined>, name: string): string | undefined {
  const v = query[name];
  return v === undefined || v === '' ? undefined : v;
}

/**
 * The connection a login for this client uses: the asked one (database or social), else the
 * tenant's default database, else (a client with social connections only) its first social one.
 */
function loginConnection(ctx: TenantContext, client: ClientRecord, asked: string | undefined): ConnectionRecord | undefined {
  const enabled = (c: ConnectionRecord | undefined) =>
    c && c.strategy === 'auth0' && c.enabled_clients.includes(client.client_id) ? c : undefined;
  if (asked) {
    const c = connectionByName(ctx.config, asked);
    return c && isSocialConnection(c) && c.enabled_clients.includes(client.client_id) ? c : enabled(c);
  }
  const preferred = ctx.config.settings.default_directory;
  const byDefault = preferred ? enabled(connectionByName(ctx.config, preferred)) : undefined;
  const social = () =>
    [...ctx.config.connections.values()]
      .filter((c) => isSocialConnection(c) && c.enabled_clients.includes(client.client_id))
      .sort((a, b) => a.name.localeCompare(b.name))[0];
  return byDefault ?? [...ctx.config.connections.values()].find((c) => enabled(c)) ?? social();
}

/**
 * Validates `/authorize` parameters in OAuth's order: first what makes the redirect_uri
 * trustworthy (client, exact callback match); any later problem is sent back to the client as
 * `error` + `error_description` (+ `state`).
 */
export function validateAuthorizeRequest(ctx: TenantContext, query: Record<string, string | undefined>): AuthorizeValidation {
  const clientId = param(query, 'client_id');
  if (!clientId) return { kind: 'page', error: 'invalid_request', description: 'Missing required parameter: client_id' };
  const client = ctx.config.clients.get(clientId);
  if (!client) return { kind: 'page', error: 'invalid_request', description: 'Unknown client.' };
  const redirectUri = param(query, 'redirect_uri');
  if (!redirectUri) return { kind: 'page', error: 'invalid_request', description: 'Missing required parameter: redirect_uri' };
  if (!client.callbacks.includes(redirectUri)) {
    return {
      kind: 'page',
      error: 'invalid_request',
      description: 'The redirect_uri is not in the list of allowed callback URLs of the application.',
    };
  }

  const askedMode = param(query, 'response_mode');
  const responseMode: ResponseMode = askedMode === 'form_post' ? 'form_post' : 'query';
  const state = param(query, 'state');
  const target: ReplyTarget = { redirect_uri: redirectUri, response_mode: responseMode, state };
  const fail = (error: string, description: string): AuthorizeValidation => ({ kind: 'redirect', target, error, description });

  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value.length > MAX_PARAM) return fail('invalid_request', `Invalid parameter: ${name.slice(0, 64)}`);
  }
  if (askedMode !== undefined && askedMode !== 'query' && askedMode !== 'form_post') {
    return fail('invalid_request', `Unsupported response_mode: ${askedMode.slice(0, 64)}`);
  }
  const responseType = param(query, 'response_type');
  if (!responseType) return fail('invalid_request', 'Missing required parameter: response_type');
  if (responseType !== 'code') return fail('unsupported_response_type', `Unsupported response type: ${responseType.slice(0, 64)}`);
  if (!client.grant_types.includes('authorization_code')) {
    return fail('unauthorized_client', "Grant type 'authorization_code' not allowed for the client.");
  }

  const challenge = param(query, 'code_challenge');
  const method = param(query, 'code_challenge_method');
  if (challenge !== undefined) {
    if ((method ?? 'plain') !== 'S256') return fail('invalid_request', 'Unsupported code_challenge_method; use S256.');
    if (!PKCE_CHALLENGE.test(challenge)) return fail('invalid_request', 'Invalid parameter: code_challenge');
  } else if (method !== undefined) {
    return fail('invalid_request', 'Missing required parameter: code_challenge');
  } else if (client.token_endpoint_auth_method === 'none') {
    return fail('invalid_request', 'Public clients must use PKCE: code_challenge and code_challenge_method=S256 are required.');
  }

  const prompts = (param(query, 'prompt') ?? '').split(' ').filter(Boolean);
  if (prompts.includes('none') && prompts.length > 1) return fail('invalid_request', 'prompt=none cannot be combined with other values.');
  const prompt = prompts.includes('none') ? 'none' : prompts.includes('login') ? 'login' : undefined;

  const maxAgeParam = param(query, 'max_age');
  if (maxAgeParam !== undefined && !/^\d{1,10}$/.test(maxAgeParam)) return fail('invalid_request', 'Invalid parameter: max_age');
  const maxAge = maxAgeParam === undefined ? undefined : Number(maxAgeParam);

  const connection = loginConnection(ctx, client, param(query, 'connection'));
  if (!connection) return fail('invalid_request', 'The connection is not enabled for this application.');

  let audience: string | undefined;
  try {
    audience = resolveAudience(ctx, param(query, 'audience'));
  } catch (err) {
    if (err instanceof OAuthError) return fail(err.error, err.description);
    throw err;
  }
  const scope = grantableScope(ctx, param(query, 'scope') ?? 'openid', audience);

  return {
    kind: 'ok',
    client,
    connection,
    connectionAsked: param(query, 'connection') !== undefined,
    request: {
      client_id: client.client_id,
      redirect_uri: redirectUri,
      response_mode: responseMode,
      scope,
      audience,
      state,
      nonce: param(query, 'nonce'),
      code_challenge: challenge,
      code_challenge_method: challenge ? 'S256' : undefined,
      connection_id: connection.id,
      prompt,
      ...(maxAge !== undefined ? { max_age: maxAge } : {}),
      login_hint: param(query, 'login_hint')?.slice(0, 320),
    },
  };
}
