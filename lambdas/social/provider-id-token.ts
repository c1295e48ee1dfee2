import { createHash } from 'node:crypto';
import { errors, jwtVerify, type JWTPayload } from 'jose';
import type { Deps } from '../deps.js';
import type { ConnectionRecord } from '../store/records.js';
import { ProviderError, providerJson, providerKeys, type ProviderMetadata } from './provider-metadata.js';
import { providerEndpoints } from './social-strategies.js';

export const pkceChallenge = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');

/**
 * Redeems the provider's code (back channel, PKCE verifier, client_secret_post) and verifies the
 * id_token it returns: signature by the provider's JWKS, issuer, audience (our client id at the
 * provider), expiry and the nonce of this login. Any failure is a ProviderError with a reason.
 */
export async function redeemProviderCode(
  deps: Deps,
  p: { connection: ConnectionRecord; metadata: ProviderMetadata; code: string; redirectUri: string; codeVerifier: string; nonce: string },
): Promise<JWTPayload & { sub: string }> {
  const options = p.connection.options as { client_id?: string; client_secret_ref?: string };
  if (!options.client_id || !options.client_secret_ref) throw new ProviderError('connection_incomplete');
  const clientSecret = await deps.secrets.get(options.client_secret_ref);
  if (!clientSecret) throw new ProviderError('connection_secret_missing');
  const { status, body } = await providerJson(deps, p.metadata.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: p.code,
      redirect_uri: p.redirectUri,
      code_verifier: p.codeVerifier,
      client_id: options.client_id,
      client_secret: clientSecret,
    }),
  });
  const answer = body as { id_token?: unknown; error?: unknown } | undefined;
  if (status !== 200) throw new ProviderError(`provider_token_${typeof answer?.error === 'string' ? answer.error.slice(0, 64) : status}`);
  if (typeof answer?.id_token !== 'string') throw new ProviderError('provider_no_id_token');

  const issuer = providerEndpoints(p.connection).issuer ?? p.metadata.issuer;
  const verify = async (refresh: boolean) =>
    jwtVerify(answer.id_token as string, await providerKeys(deps, p.metadata.jwks_uri, refresh), {
      issuer,
      audience: options.client_id,
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
  if (typeof payload.sub !== 'string' || !payload.sub || payload.sub.length > 255 || payload.sub.includes('|')) {
    throw new ProviderError('id_token_invalid_sub');
  }
  return payload as JWTPayload & { sub: string };
}
