import { createHash } from 'node:crypto';
import { decodeJwt, errors, jwtVerify, type JWTPayload } from 'jose';
import { ProviderError, providerJson, providerKeys, type ProviderHttpDeps } from './provider-metadata.js';

export const pkceChallenge = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');

/** The tokens a provider's token endpoint gave for a code. */
export interface ProviderTokens {
  id_token?: string;
  access_token?: string;
}

/**
 * Redeems the provider's code at its token endpoint (back channel, client_secret_post, the PKCE
 * verifier where the provider takes one). A refusal, including one sent with status 200 as
 * GitHub does, is a ProviderError `provider_token_<error>`: the user gets `access_denied`.
 */
export async function exchangeProviderCode(
  deps: ProviderHttpDeps,
  p: { tokenEndpoint: string; code: string; redirectUri: string; clientId: string; clientSecret: string; codeVerifier?: string },
): Promise<ProviderTokens> {
  const form: Record<string, string> = {
    grant_type: 'authorization_code',
    code: p.code,
    redirect_uri: p.redirectUri,
    client_id: p.clientId,
    client_secret: p.clientSecret,
  };
  if (p.codeVerifier) form.code_verifier = p.codeVerifier;
  const { status, body } = await providerJson(deps, p.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams(form),
  });
  const answer = body as { id_token?: unknown; access_token?: unknown; error?: unknown } | undefined;
  if (status !== 200 || typeof answer?.error === 'string') {
    const error = typeof answer?.error === 'string' ? answer.error.replace(/[^a-z_]/gi, '').slice(0, 64) : String(status);
    throw new ProviderError(`provider_token_${error}`);
  }
  return {
    id_token: typeof answer?.id_token === 'string' ? answer.id_token : undefined,
    access_token: typeof answer?.access_token === 'string' ? answer.access_token : undefined,
  };
}

/**
 * Verifies a provider's id_token: signature by the provider's JWKS (read again once when the
 * token names an unknown key), issuer, audience (our client id at the provider), expiry and the
 * nonce of this login. `issuer` may depend on the token (Microsoft's multi-tenant issuers name
 * the token's tenant): it is then computed from the unverified claims and checked by jose.
 */
export async function verifyProviderIdToken(
  deps: ProviderHttpDeps,
  idToken: string | undefined,
  p: { jwksUri: string; issuer: string | ((unverified: JWTPayload) => string | undefined); audience: string; nonce: string },
): Promise<JWTPayload & { sub: string }> {
  if (!idToken) throw new ProviderError('provider_no_id_token');
  let issuer: string | undefined;
  try {
    issuer = typeof p.issuer === 'string' ? p.issuer : p.issuer(decodeJwt(idToken));
  } catch {
    throw new ProviderError('id_token_invalid');
  }
  if (!issuer) throw new ProviderError('id_token_invalid_iss');
  const verify = async (refresh: boolean) =>
    jwtVerify(idToken, await providerKeys(deps, p.jwksUri, refresh), {
      issuer,
      audience: p.audience,
      currentDate: new Date(deps.now()),
      clockTolerance: 60,
      requiredClaims: ['sub', 'exp', 'iat'],
    });
  let payload: JWTPayload;
  try {
    payload = (await verify(false).catch((err) => (err instanceof errors.JWKSNoMatchingKey ? verify(true) : Promise.reject(err)))).payload;
  } catch (err) {
    if (err instanceof ProviderError) throw err;
    const claim = err instanceof errors.JWTClaimValidationFailed ? `_${err.claim}` : '';
    throw new ProviderError(`id_token_invalid${claim}`);
  }
  if (payload.nonce !== p.nonce) throw new ProviderError('id_token_invalid_nonce');
  if (!isProviderId(payload.sub)) throw new ProviderError('id_token_invalid_sub');
  return payload as JWTPayload & { sub: string };
}

/** An account id a `user_id` can be built from: a short string without Auth0's separator. */
export function isProviderId(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= 255 && !v.includes('|');
}
