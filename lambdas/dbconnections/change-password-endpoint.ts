import { createHash } from 'node:crypto';
import type { Deps } from '../deps.js';
import type { HttpEvent } from '../http/event.js';
import type { HttpResponse } from '../http/responses.js';
import { resolveTenantContext, type TenantContext, type TenantContextDeps } from '../http/tenant-context.js';
import { connectionByName } from '../store/tenant-config-repository.js';
import type { RateLimit } from '../store/rate-limit-repository.js';
import type { ClientRecord, ConnectionRecord } from '../store/records.js';
import { bodyFields, dbError, isEmail, stringField } from './db-errors.js';
import { CHANGE_PASSWORD_ANSWER, requestPasswordReset, type ResetRequestDeps } from './password-reset.js';

/** Auth0's limit of change_password: 1 per minute per (IP, email), burst 10. */
export const CHANGE_PASSWORD_LIMIT: RateLimit = { intervalMs: 60_000, burst: 10 };

export type DbRequest = { ctx: TenantContext; client: ClientRecord; connection: ConnectionRecord; fields: Record<string, unknown> };

/** The client and database connection a /dbconnections request names, or Auth0's 400. */
export async function resolveDbRequest(deps: TenantContextDeps, event: HttpEvent): Promise<DbRequest | HttpResponse> {
  const fields = bodyFields(event.body);
  if (!fields) return dbError(400, 'invalid_body', 'The request body must be a JSON object or a form.');
  const ctx = await resolveTenantContext(deps, event);
  const clientId = stringField(fields, 'client_id');
  if (!clientId) return dbError(400, 'invalid_request', 'Missing required parameter: client_id');
  const client = ctx.config.clients.get(clientId);
  if (!client) return dbError(400, 'invalid_request', 'Unknown client.');
  const connectionName = stringField(fields, 'connection');
  if (!connectionName) return dbError(400, 'invalid_request', 'Missing required parameter: connection');
  const connection = connectionByName(ctx.config, connectionName);
  if (!connection || connection.strategy !== 'auth0' || !connection.enabled_clients.includes(client.client_id)) {
    return dbError(400, 'invalid_connection', 'The connection does not exist or is not enabled for this client.');
  }
  return { ctx, client, connection, fields };
}

/**
 * `POST /dbconnections/change_password` `{client_id, email, connection}`: Auth0's same 200
 * text whether or not the email exists (the log says which), limited per (IP, email).
 */
export async function changePasswordEndpoint(deps: TenantContextDeps & ResetRequestDeps & Pick<Deps, 'rateLimits'>, event: HttpEvent): Promise<HttpResponse> {
  const req = await resolveDbRequest(deps, event);
  if (!('ctx' in req)) return req;
  const email = stringField(req.fields, 'email');
  if (!email || !isEmail(email)) return dbError(400, 'bad.email', 'Missing or invalid email.');
  const limited = await takeChangePasswordToken(deps, req.ctx, email);
  if (limited) return limited;
  await requestPasswordReset(deps, req.ctx, { client: req.client, connection: req.connection, email });
  await req.ctx.log.flush();
  return changePasswordAnswer();
}

export function changePasswordAnswer(): HttpResponse {
  return { statusCode: 200, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }, body: CHANGE_PASSWORD_ANSWER };
}

/** Takes a token of the (IP, email) bucket; a 429 in Auth0's shape when it is empty. */
export async function takeChangePasswordToken(deps: Pick<Deps, 'rateLimits' | 'now'>, ctx: TenantContext, email: string): Promise<HttpResponse | undefined> {
  const emailHash = createHash('sha256').update(email.toLowerCase()).digest('base64url');
  const key = { pk: `TENANT#${ctx.tenant}#RATE#change_password#${ctx.ip ?? 'unknown'}#${emailHash}`, sk: 'RATE' };
  const decision = await deps.rateLimits.take(key, CHANGE_PASSWORD_LIMIT, deps.now());
  if (decision.allowed) return undefined;
  ctx.log.add({ type: 'fcpr', user_name: email.toLowerCase(), reason: 'rate_limited' });
  await ctx.log.flush();
  const res = dbError(429, 'too_many_requests', 'Too many requests. Try again later.');
  res.headers['x-ratelimit-limit'] = String(CHANGE_PASSWORD_LIMIT.burst);
  res.headers['x-ratelimit-remaining'] = '0';
  res.headers['x-ratelimit-reset'] = String(decision.resetAt);
  return res;
}
