import type { Deps } from '../deps.js';
import type { HttpEvent } from '../http/event.js';
import { cacheableJson, type HttpResponse } from '../http/responses.js';
import { resolveTenantContext, type TenantContextDeps } from '../http/tenant-context.js';
import { PASSWORD_REALM_GRANT } from './password-grant.js';

/** `GET /.well-known/openid-configuration` of the request's tenant, under its one issuer. */
export async function discoveryEndpoint(deps: TenantContextDeps, event: HttpEvent): Promise<HttpResponse> {
  const { issuer } = await resolveTenantContext(deps, event);
  return cacheableJson(
    {
      issuer,
      authorization_endpoint: `${issuer}authorize`,
      token_endpoint: `${issuer}oauth/token`,
      userinfo_endpoint: `${issuer}userinfo`,
      jwks_uri: `${issuer}.well-known/jwks.json`,
      revocation_endpoint: `${issuer}oauth/revoke`,
      end_session_endpoint: `${issuer}v2/logout`,
      scopes_supported: ['openid', 'profile', 'offline_access', 'name', 'given_name', 'family_name', 'nickname', 'email', 'email_verified', 'picture', 'created_at', 'identities', 'phone', 'address'],
      response_types_supported: ['code'],
      response_modes_supported: ['query', 'form_post'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
      grant_types_supported: ['authorization_code', 'password', PASSWORD_REALM_GRANT, 'refresh_token', 'client_credentials'],
      claims_supported: ['aud', 'auth_time', 'created_at', 'email', 'email_verified', 'exp', 'family_name', 'given_name', 'iat', 'identities', 'iss', 'name', 'nickname', 'phone_number', 'picture', 'sid', 'sub'],
      code_challenge_methods_supported: ['S256'],
      request_uri_parameter_supported: false,
    },
    3600,
  );
}

/** `GET /.well-known/jwks.json`: the public keys of the request's tenant. */
export async function jwksEndpoint(deps: TenantContextDeps & Pick<Deps, 'signingKeys'>, event: HttpEvent): Promise<HttpResponse> {
  const ctx = await resolveTenantContext(deps, event);
  return cacheableJson(await deps.signingKeys.publicJwks(ctx.tenant), 600);
}
