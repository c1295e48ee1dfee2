import type { JWTPayload } from 'jose';
import type { Deps } from '../deps.js';
import type { NewUserProfile } from '../identity/create-user.js';
import type { ConnectionRecord } from '../store/records.js';
import { appleClientSecret, appleUserName } from './apple-client-secret.js';
import { GITHUB_API, GITHUB_WEB, githubIdentity } from './github-profile.js';
import { exchangeProviderCode, isProviderId, pkceChallenge, verifyProviderIdToken } from './provider-id-token.js';
import { ProviderError, providerJson, providerMetadata, type ProviderHttpDeps } from './provider-metadata.js';
import { normalizedProfile } from './provider-profile.js';
import { MICROSOFT_CONSUMERS_TENANT, microsoftTenant, providerBase, providerEndpoints, providerScope } from './social-strategies.js';

/** What talking to a social provider uses: its HTTP calls and the connection's secret. */
export type ProviderFlowDeps = ProviderHttpDeps & Pick<Deps, 'secrets'>;

/** The account a provider vouched for: its id (the part after `<strategy>|`) and Auth0's normalized profile. */
export interface ProviderIdentity {
  id: string;
  profile: NewUserProfile;
}

interface Options {
  client_id?: string;
  client_secret_ref?: string;
  team_id?: string;
  kid?: string;
}
const optionsOf = (c: ConnectionRecord) => c.options as Options;

/** Auth0's `type: front_channel` OIDC connection: the id_token comes back through the browser (form_post), no code. */
export const isFrontChannel = (c: ConnectionRecord) => c.strategy === 'oidc' && c.options.type === 'front_channel';
const GRAPH = 'https://graph.microsoft.com';

/**
 * The provider's authorization URL for this login: state and nonce always, PKCE S256 where the
 * provider takes it (not Apple), Apple's form_post (its name and email scopes require it).
 */
export async function providerAuthorizationUrl(
  deps: ProviderFlowDeps,
  connection: ConnectionRecord,
  p: { redirectUri: string; state: string; nonce: string; codeVerifier: string; prompt?: string; loginHint?: string },
): Promise<string> {
  const github = connection.strategy === 'github';
  const endpoint = github
    ? `${providerBase(connection, GITHUB_WEB)}/login/oauth/authorize`
    : (await providerMetadata(deps, providerEndpoints(connection).discoveryUrl)).authorization_endpoint;
  const frontChannel = isFrontChannel(connection);
  const params: Record<string, string> = {
    response_type: frontChannel ? 'id_token' : 'code',
    client_id: String(optionsOf(connection).client_id),
    redirect_uri: p.redirectUri,
    scope: providerScope(connection),
    state: p.state,
  };
  if (!github) params.nonce = p.nonce;
  if (connection.strategy === 'apple' || frontChannel) {
    params.response_mode = 'form_post';
  } else {
    params.code_challenge = pkceChallenge(p.codeVerifier);
    params.code_challenge_method = 'S256';
  }
  if (p.prompt === 'login' && !github && connection.strategy !== 'apple') params.prompt = 'login';
  if (p.loginHint && !github && connection.strategy !== 'apple') params.login_hint = p.loginHint;
  const url = new URL(endpoint);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url.toString();
}

async function clientSecretOf(deps: ProviderFlowDeps, connection: ConnectionRecord): Promise<string> {
  const o = optionsOf(connection);
  if (!o.client_id || !o.client_secret_ref) throw new ProviderError('connection_incomplete');
  const secret = await deps.secrets.get(o.client_secret_ref);
  if (!secret) throw new ProviderError('connection_secret_missing');
  if (connection.strategy !== 'apple') return secret;
  if (!o.team_id || !o.kid) throw new ProviderError('connection_incomplete');
  return appleClientSecret({ teamId: o.team_id, clientId: o.client_id, keyId: o.kid, privateKeyPem: secret, now: deps.now() });
}

/**
 * Turns the provider's answer at `/login/callback` (a code, plus Apple's `user` on a first
 * sign-in) into the account it vouches for: the code redeemed, then the id_token verified
 * (OIDC providers) or the profile read from the API (GitHub). Failures are ProviderErrors.
 */
export async function redeemProviderCallback(
  deps: ProviderFlowDeps,
  connection: ConnectionRecord,
  p: { params: Record<string, string | undefined>; redirectUri: string; codeVerifier: string; nonce: string; posted: boolean },
): Promise<ProviderIdentity> {
  if (isFrontChannel(connection)) return frontChannelIdentity(deps, connection, p);
  const code = p.params.code?.slice(0, 4096);
  if (!code) throw new ProviderError('provider_no_code');
  const clientId = String(optionsOf(connection).client_id);
  const clientSecret = await clientSecretOf(deps, connection);
  const exchange = { code, redirectUri: p.redirectUri, clientId, clientSecret };

  if (connection.strategy === 'github') {
    const tokens = await exchangeProviderCode(deps, { ...exchange, tokenEndpoint: `${providerBase(connection, GITHUB_WEB)}/login/oauth/access_token`, codeVerifier: p.codeVerifier });
    if (!tokens.access_token) throw new ProviderError('provider_no_access_token');
    return githubIdentity(deps, providerBase(connection, GITHUB_API), tokens.access_token);
  }

  const endpoints = providerEndpoints(connection);
  const metadata = await providerMetadata(deps, endpoints.discoveryUrl);
  const apple = connection.strategy === 'apple';
  const tokens = await exchangeProviderCode(deps, { ...exchange, tokenEndpoint: metadata.token_endpoint, codeVerifier: apple ? undefined : p.codeVerifier });
  const claims = await verifyProviderIdToken(deps, tokens.id_token, {
    jwksUri: metadata.jwks_uri,
    issuer: connection.strategy === 'windowslive' ? microsoftIssuer(connection, metadata.issuer) : (endpoints.issuer ?? metadata.issuer),
    audience: clientId,
    nonce: p.nonce,
  });
  if (apple) return { id: claims.sub, profile: appleProfile(claims, p.params.user) };
  if (connection.strategy === 'windowslive') return microsoftIdentity(deps, connection, claims, tokens.access_token);
  return { id: claims.sub, profile: normalizedProfile(claims) };
}

/**
 * Front channel: the id_token the provider posted (form_post only: never from a URL), verified
 * as a code flow's is; the nonce of this login is what binds it to the browser's transaction.
 */
async function frontChannelIdentity(deps: ProviderFlowDeps, connection: ConnectionRecord, p: { params: Record<string, string | undefined>; nonce: string; posted: boolean }): Promise<ProviderIdentity> {
  if (!p.posted) throw new ProviderError('provider_id_token_not_posted');
  const endpoints = providerEndpoints(connection);
  const metadata = await providerMetadata(deps, endpoints.discoveryUrl);
  const claims = await verifyProviderIdToken(deps, p.params.id_token?.slice(0, 16384), {
    jwksUri: metadata.jwks_uri,
    issuer: endpoints.issuer ?? metadata.issuer,
    audience: String(optionsOf(connection).client_id),
    nonce: p.nonce,
  });
  return { id: claims.sub, profile: normalizedProfile(claims) };
}

/** Apple: the email as Apple vouches for it (`"true"` is a string there), the name from the first sign-in's `user` field. */
function appleProfile(claims: JWTPayload, user: string | undefined): NewUserProfile {
  const base = normalizedProfile(claims);
  const { given_name, family_name } = appleUserName(user);
  const name = [given_name, family_name].filter(Boolean).join(' ') || base.name;
  const privateEmail = claims.is_private_email === true || claims.is_private_email === 'true';
  return {
    ...base,
    given_name,
    family_name,
    name,
    ...(privateEmail ? { upstream_profile: { ...base.upstream_profile, is_private_email: true } } : {}),
  };
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Microsoft's v2 issuer names the tenant of the account (`https://login.microsoftonline.com/{tid}/v2.0`).
 * With `common` or `organizations` the discovery document says `{tenantid}`: the token's `tid`
 * fills it, and jose then checks the issuer; `organizations` refuses personal accounts,
 * `consumers` accepts only them, a named tenant is the discovery document's own issuer.
 */
function microsoftIssuer(connection: ConnectionRecord, template: string) {
  const tenant = microsoftTenant(connection);
  return (unverified: JWTPayload): string | undefined => {
    if (!template.includes('{tenantid}')) return template;
    const tid = typeof unverified.tid === 'string' ? unverified.tid.toLowerCase() : '';
    if (!GUID.test(tid)) return undefined;
    if (tenant === 'organizations' && tid === MICROSOFT_CONSUMERS_TENANT) return undefined;
    if (tenant === 'consumers' && tid !== MICROSOFT_CONSUMERS_TENANT) return undefined;
    return template.replace('{tenantid}', tid);
  };
}

/**
 * A Microsoft account as Auth0's `windowslive` strategy names it: the id Microsoft Graph's
 * `/me` gives (for a personal account the 16-hex-digit account id), the profile from the
 * id_token and Graph. Microsoft does not vouch for the email: it stays unverified.
 */
async function microsoftIdentity(deps: ProviderFlowDeps, connection: ConnectionRecord, claims: JWTPayload, accessToken: string | undefined): Promise<ProviderIdentity> {
  if (!accessToken) throw new ProviderError('provider_no_access_token');
  const { status, body } = await providerJson(deps, `${providerBase(connection, GRAPH)}/v1.0/me`, {
    headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
  });
  const me = body as { id?: unknown; displayName?: unknown; givenName?: unknown; surname?: unknown; mail?: unknown; userPrincipalName?: unknown } | undefined;
  if (status !== 200 || !isProviderId(me?.id)) throw new ProviderError(status === 200 ? 'provider_profile_invalid' : `provider_profile_${status}`);
  const s = (v: unknown, max = 512) => (typeof v === 'string' && v ? v.slice(0, max) : undefined);
  const base = normalizedProfile({ ...claims, email: s(claims.email, 320) ?? s(me.mail, 320), email_verified: false });
  return {
    id: me.id,
    profile: {
      ...base,
      name: s(me.displayName) ?? base.name,
      given_name: s(me.givenName) ?? base.given_name,
      family_name: s(me.surname) ?? base.family_name,
      upstream_profile: { ...base.upstream_profile, tid: claims.tid, ...(s(me.userPrincipalName) ? { userPrincipalName: s(me.userPrincipalName) } : {}) },
    },
  };
}
