import type { Deps } from '../deps.js';
import type { TenantContext } from '../http/tenant-context.js';
import { authenticateWithPassword } from '../identity/password-login.js';
import type { ClientRecord } from '../store/records.js';
import { connectionByName } from '../store/tenant-config-repository.js';
import { oauthErrors } from './errors.js';
import { grantableScope, issueUserTokens, resolveAudience, type TokenResponse } from './issue-tokens.js';
import { parseFields, passwordRequest } from './token-request.js';

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

  const user = await authenticateWithPassword(
    deps,
    ctx,
    { connection, username: req.username, password: req.password, clientId: client.client_id, clientName: client.name },
    deps.passwordFallback,
  );
  const event = {
    client_id: client.client_id,
    client_name: client.name,
    connection: connection.name,
    connection_id: connection.id,
    strategy: connection.strategy,
    user_id: user.user_id,
    user_name: user.email ?? user.username,
  };
  if (user.blocked) {
    ctx.log.add({ ...event, type: 'f', reason: 'user_blocked' });
    await ctx.log.flush();
    throw oauthErrors.userBlocked();
  }
  const issued = await issueUserTokens(deps, ctx, { client, user, scope, audience, grantType: 'password' });
  const migrated = ctx.log.events.find((e) => e.migration && e.user_id === user.user_id)?.migration;
  ctx.log.add({ ...event, type: 's', migration: migrated });
  ctx.log.add({ ...event, type: 'sepft', migration: migrated });
  await Promise.all([
    ctx.log.flush(issued.items),
    deps.users.recordLogin(ctx.tenant, user.user_id, new Date(deps.now()).toISOString(), ctx.ip),
  ]);
  return issued.response;
}
