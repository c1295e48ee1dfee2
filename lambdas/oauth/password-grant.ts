import type { Deps } from '../deps.js';
import type { TenantContext } from '../http/tenant-context.js';
import { logLoginSuccess, passwordLoginSuccess, refuseBlockedUser } from '../identity/login-outcome.js';
import { authenticateWithPassword } from '../identity/password-login.js';
import type { ClientRecord } from '../store/records.js';
import { connectionByName } from '../store/tenant-config-repository.js';
import { oauthErrors } from './errors.js';
import { grantableScope, issueUserTokens, resolveAudience, type TokenResponse } from './issue-tokens.js';
import { parseFields, passwordRequest } from './token-request.js';
import { countSignInAfterImport } from '../jobs/import-counters.js';

export const PASSWORD_REALM_GRANT = 'http://auth0.com/oauth/grant-type/password-realm';

/**
 * `password` and `password-realm`: resource-owner password grants against a database
 * connection (`realm`, else the tenant's default directory). Some SDKs send `realm` with
 * `grant_type=password`; it is honoured on both.
 */
export async function passwordGrant(
  deps: Deps,
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
  const user = await authenticateWithPassword(deps, ctx, input, deps.passwordFallback);
  const login = passwordLoginSuccess(ctx, input, user);
  if (await refuseBlockedUser(ctx, login)) throw oauthErrors.userBlocked();
  try {
    const issued = await issueUserTokens(deps, ctx, { client, user, scope, audience, grantType: 'password' });
    logLoginSuccess(ctx, login, ['s', 'sepft']);
    await Promise.all([
      ctx.log.flush(issued.items),
      deps.users
        .recordLogin(ctx.tenant, user.user_id, new Date(deps.now()).toISOString(), ctx.ip)
        .then((login) => countSignInAfterImport(deps, ctx.tenant, user, login)),
    ]);
    return issued.response;
  } catch (err) {
    // The password was right: whatever failed after it, the lockout attempt it took is given back.
    await ctx.log.flushDeletes().catch(() => {});
    throw err;
  }
}
