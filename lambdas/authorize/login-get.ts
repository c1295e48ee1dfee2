import type { HttpEvent } from '../http/event.js';
import type { HttpResponse } from '../http/responses.js';
import { resolveTenantContext, type TenantContextDeps } from '../http/tenant-context.js';
import { csrfTokenFromCookie } from './csrf.js';
import { errorPage } from './html.js';
import { htmlEndpoint, queryOf } from './html-endpoint.js';
import { renderLoginPage } from './login-page.js';
import { socialConnectionsOf } from '../social/social-buttons.js';
import { findLoginTransaction, type LoginTransactionDeps } from './login-transaction.js';

export const EXPIRED_TRANSACTION = 'This login link has expired. Return to the application and sign in again.';
export const FOREIGN_TRANSACTION =
  'This browser did not start this login, or it does not keep cookies. Return to the application and sign in again.';

/** `GET /u/login?state=<transaction>`: the login page of a pending authorization request. */
export const loginPageEndpoint = htmlEndpoint(async (deps: TenantContextDeps & LoginTransactionDeps, event: HttpEvent): Promise<HttpResponse> => {
  const ctx = await resolveTenantContext(deps, event);
  const tx = await findLoginTransaction(deps, ctx.tenant, queryOf(event).state);
  if (!tx) return errorPage(400, 'invalid_request', EXPIRED_TRANSACTION);
  const csrfToken = csrfTokenFromCookie(event, tx.id, tx.csrf_hash);
  if (!csrfToken) return errorPage(403, 'access_denied', FOREIGN_TRANSACTION);
  const client = ctx.config.clients.get(tx.request.client_id);
  if (!client) return errorPage(400, 'invalid_request', 'Unknown client.');
  return renderLoginPage(200, {
    tenantName: ctx.config.settings.friendly_name,
    clientName: client.name,
    transactionId: tx.id,
    csrfToken,
    email: tx.request.login_hint,
    socialConnections: socialConnectionsOf(ctx, client.client_id),
    passwordForm: ctx.config.connections.get(tx.request.connection_id)?.strategy === 'auth0',
  });
});
