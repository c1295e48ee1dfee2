import type { Deps } from '../deps.js';
import type { HttpEvent } from '../http/event.js';
import { json, type HttpResponse } from '../http/responses.js';
import { resolveTenantContext, type TenantContext, type TenantContextDeps } from '../http/tenant-context.js';
import { isLoopbackHttpAllowed } from '../migration/upstream-client.js';
import { checkOutboundUrl } from '../http/outbound-url.js';
import type { TenantConfig } from '../store/tenant-config-repository.js';
import { authenticateManagementCaller, requireScope, type ManagementCaller } from './auth.js';
import { managementErrors } from './errors.js';

/**
 * One Management API request and the dependencies `D` its reader declared (e.g.
 * `Pick<Deps, 'users' | 'now'>`). Without `D` the reader uses no dependency at all.
 */
export interface ManagementRequest<D = unknown> {
  deps: D;
  ctx: TenantContext;
  caller: ManagementCaller;
  event: HttpEvent;
}

/**
 * One Management API operation: the scopes it needs, how a write is logged, and its body, which
 * receives only the dependencies `D` it declares. Without `D` the type stands for any operation,
 * whatever it declares: an operation that leaves its request unannotated can use no dependency.
 */
export interface ManagementEndpoint<D = never> {
  scopes: readonly string[];
  /** Writes are logged as `sapi`; `config` writes also drop the tenant's cached configuration. */
  write?: { description: string; config: boolean };
  // A property, not a method: an operation declaring more than the caller gives must not type-check.
  run: (req: ManagementRequest<D>) => Promise<HttpResponse>;
}

/** What running any operation needs: the tenant from the host, the caller's token, the config cache a write drops. */
export type ManagementRunDeps = TenantContextDeps & Pick<Deps, 'now' | 'signingKeys' | 'tenantConfigCache'>;

/**
 * Runs an endpoint: tenant from the host, caller from the Bearer token, scope check, then the
 * operation. A refused request writes nothing; a completed write is logged as `sapi` (method
 * and path only: bodies carry secrets).
 */
export async function runManagementEndpoint<D>(
  deps: ManagementRunDeps & D,
  endpoint: ManagementEndpoint<D>,
  event: HttpEvent,
): Promise<HttpResponse> {
  const ctx = await resolveTenantContext(deps, event);
  const caller = await authenticateManagementCaller(deps, ctx, event);
  requireScope(caller, endpoint.scopes);
  if (!endpoint.write) return endpoint.run({ deps, ctx, caller, event });
  let response: HttpResponse;
  try {
    response = await endpoint.run({ deps, ctx, caller, event });
  } finally {
    if (endpoint.write.config) deps.tenantConfigCache.invalidate(ctx.tenant);
  }
  ctx.log.add({
    type: 'sapi',
    description: endpoint.write.description,
    client_id: caller.clientId,
    client_name: ctx.config.clients.get(caller.clientId)?.name,
    details: { method: event.requestContext?.http?.method, path: event.requestContext?.http?.path ?? event.rawPath },
  });
  await ctx.log.flush();
  return response;
}

/** The tenant's configuration as stored now (not the few-seconds cache the token path reads). */
export async function currentConfig(req: ManagementRequest<Pick<Deps, 'tenantConfigs'>>): Promise<TenantConfig> {
  return (await req.deps.tenantConfigs.load(req.ctx.tenant)) ?? req.ctx.config;
}

export const ok = (body: unknown) => json(200, body);
export const created = (body: unknown) => json(201, body);
export const noContent = (): HttpResponse => ({ statusCode: 204, headers: { 'cache-control': 'no-store' }, body: '' });

export function nowIso(deps: Pick<Deps, 'now'>): string {
  return new Date(deps.now()).toISOString();
}

/**
 * Outbound endpoints: absolute https URLs (plain http only for loopback when running locally),
 * no credentials in them, no private, link-local, unique-local, mapped or metadata host.
 */
export function assertOutboundUrl(deps: Pick<Deps, 'config'>, url: string, field: string): void {
  const verdict = checkOutboundUrl(url, { allowLoopback: deps.config.allowLoopbackHttp });
  if (!verdict.ok && verdict.reason !== 'malformed_url' && verdict.reason !== 'scheme' && verdict.reason !== 'credentials_in_url') {
    throw managementErrors.invalidBody(`'Expected a public host (private, link-local, loopback and metadata addresses are refused)' on property ${field}.`);
  }
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || parsed.username || parsed.password || !isLoopbackHttpAllowed(url, deps.config.allowLoopbackHttp)) {
    throw managementErrors.invalidBody(`'Expected an absolute https URL' on property ${field}.`);
  }
}

/** The part of a secret that is safe to show: its last 4 characters, and only for long secrets. */
export function secretHint(secret: string): string {
  // Enough to tell secrets apart, never a large share of a short one.
  return secret.slice(secret.length >= 16 ? -4 : -2);
}
