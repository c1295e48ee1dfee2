import { errorPage } from '../authorize/html.js';
import { EXPIRED_TRANSACTION } from '../authorize/login-get.js';
import { completeLoginTransaction, type LoginTransaction, type LoginTransactionDeps } from '../authorize/login-transaction.js';
import type { HttpResponse } from '../http/responses.js';
import type { TenantContext } from '../http/tenant-context.js';
import { connectionByName } from '../store/tenant-config-repository.js';
import { startSocialLogin, type StartSocialLoginDeps } from './start-social-login.js';
import { isSocialConnection } from './social-strategies.js';

const LABELS: Record<string, string> = { 'google-oauth2': 'Google', apple: 'Apple', github: 'GitHub', windowslive: 'Microsoft' };

/** The social connections enabled for a client, as the login page's buttons. */
export function socialConnectionsOf(ctx: TenantContext, clientId: string): { name: string; label: string }[] {
  return [...ctx.config.connections.values()]
    .filter((c) => isSocialConnection(c) && c.enabled_clients.includes(clientId))
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((c) => ({ name: c.name, label: c.display_name && c.display_name !== c.name ? c.display_name : (LABELS[c.strategy] ?? c.name) }));
}

/**
 * A social button of the login page (CSRF already checked): the pending request goes on to the
 * provider through that connection. The page's transaction ends here, so it cannot be reused.
 */
export async function startSocialFromPage(deps: StartSocialLoginDeps & LoginTransactionDeps, ctx: TenantContext, tx: LoginTransaction, name: string): Promise<HttpResponse> {
  const connection = connectionByName(ctx.config, name.slice(0, 128));
  if (!connection || !isSocialConnection(connection) || !connection.enabled_clients.includes(tx.request.client_id)) {
    return errorPage(400, 'invalid_request', 'The connection is not enabled for this application.');
  }
  if (!(await completeLoginTransaction(deps, ctx.tenant, tx.id))) return errorPage(400, 'invalid_request', EXPIRED_TRANSACTION);
  return startSocialLogin(deps, ctx, { ...tx.request, connection_id: connection.id }, connection);
}
