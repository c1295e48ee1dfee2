import type { Deps } from '../deps.js';
import type { TenantContext } from '../http/tenant-context.js';
import { givingBackAttemptOnFailure, recordSuccessfulLogin } from '../identity/login-outcome.js';
import { authenticateWithPassword, type PasswordCheckDeps, type PasswordLoginOutcome } from '../identity/password-login.js';
import type { ClientRecord } from '../store/records.js';
import { connectionByName } from '../store/tenant-config-repository.js';
import { oauthErrors, type OAuthError } from './errors.js';
import { grantableScope, issueUserTokens, resolveAudience, type IssueTokensDeps, type TokenResponse } from './issue-tokens.js';
import { parseFields, passwordRequest } from './token-request.js';

export const PASSWORD_REALM_GRANT = 'http://auth0.com/oauth/grant-type/password-realm';

/** The OAuth error a failed password login answers with (as Auth0's authentication API does). */
export function oauthErrorOf(outcome: Exclude<PasswordLoginOutcome, { kind: 'ok' }>): OAuthError {
  switch (outcome.kind) {
    case 'wrong_credentials':
      return oauthErrors.wrongCredentials();
    case 'blocked':
      return oauthErrors.userBlocked();
    case 'too_many_attempts':
      return outcome.limit === 'suspicious_ip' ? oauthErrors.suspiciousIp() : oauthErrors.tooManyAttempts();
    case 'upstream_unavailable':
      return oauthErrors.tooManyRequests(outcome.retryAfterSeconds);
  }
}

/**
 * `password` and `password-realm`: resource-owner password grants against a database
 * connection (`realm`, else the tenant's default directory). Some SDKs send `realm` with
 * `grant_type=password`; it is honoured on both.
 */
/** What the password grants use: the password check (and its fallback), token issuance, the login's final writes. */
export type PasswordGrantDeps = PasswordCheckDeps & IssueTokensDeps & Pick<Deps, 'passwordFallback' | 'importCounters'>;

export async function passwordGrant(
  deps: PasswordGrantDeps,
  ctx: TenantContext,
  client: ClientRecord,
  grantType: string,
  body: Record<string, string>,
): Promise<TokenResponse> {
  const req = parseFields(passwordRequest, body);
  const realm = req.realm ?? ctx.config.settings.default_directory;
  if (grantType === PASSWORD_REALM_GRANT && !req.realm) {
    throw oauthErrors.invalidRequest('Missing required parameter: realm');
  }
  if (!realm) throw oauthErrors.invalidRequest('No default directory is configured; send realm.');
  const connection = connectionByName(ctx.config, realm);
  if (!connection || connection.strategy !== 'auth0') throw oauthErrors.invalidRequest('Unknown realm.');
  if (!connection.enabled_clients.includes(client.client_id)) {
    throw oauthErrors.unauthorizedClient(grantType);
  }
  const audience = resolveAudience(ctx, req.audience);
  const scope = grantableScope(ctx, req.scope, audience);

  const input = { connection, username: req.username, password: req.password, clientId: client.client_id, clientName: client.name };
  const outcome = await authenticateWithPassword(deps, ctx, input, deps.passwordFallback);
  if (outcome.kind !== 'ok') throw oauthErrorOf(outcome);
  const { login } = outcome;
  return givingBackAttemptOnFailure(ctx, async () => {
    const issued = await issueUserTokens(deps, ctx, { client, user: login.user, scope, audience, grantType: 'password' });
    await recordSuccessfulLogin(deps, ctx, login, ['s', 'sepft'], issued.items);
    return issued.response;
  });
}
