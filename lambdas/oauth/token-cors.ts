import type middy from '@middy/core';
import { header, type HttpEvent } from '../http/event.js';
import type { HttpResponse } from '../http/responses.js';
import { resolveTenantContext, type TenantContextDeps } from '../http/tenant-context.js';
import type { TenantConfig } from '../store/tenant-config-repository.js';

type Request = middy.Request<HttpEvent, unknown, unknown>;

const TOKEN_ROUTE = 'POST /oauth/token';
const ALLOWED_HEADERS = 'Content-Type, Auth0-Client, Authorization, DPoP';

/** An origin is a scheme, host and port, nothing more: `https://app.example.com`. */
function normalizedOrigin(value: string | undefined): string | undefined {
  if (!value || value === 'null' || value.length > 300) return undefined;
  try {
    const url = new URL(value);
    return url.origin === value.replace(/\/$/, '') ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

function listsOrigin(webOrigins: string[], origin: string): boolean {
  return webOrigins.some((o) => normalizedOrigin(o.replace(/\/$/, '')) === origin);
}

async function tenantConfigOf(deps: TenantContextDeps, event: HttpEvent): Promise<TenantConfig | undefined> {
  try {
    return (await resolveTenantContext(deps, event)).config;
  } catch {
    return undefined;
  }
}

/**
 * CORS for SPAs that call `/oauth/token` from the browser: the response names the caller's
 * origin only when it is one of the `web_origins` of the client in the request body.
 */
export function tokenCors(deps: TenantContextDeps): middy.MiddlewareObj<HttpEvent> {
  const decorate = async (request: Request) => {
    const event = request.event;
    if (event.routeKey !== TOKEN_ROUTE || !request.response) return;
    const origin = normalizedOrigin(header(event, 'origin'));
    const body = event.body as Record<string, unknown> | undefined;
    const clientId = body && typeof body === 'object' && typeof body.client_id === 'string' ? body.client_id : undefined;
    if (!origin || !clientId) return;
    const client = (await tenantConfigOf(deps, event))?.clients.get(clientId);
    if (!client || !listsOrigin(client.web_origins, origin)) return;
    const response = request.response as HttpResponse;
    response.headers = { ...response.headers, 'access-control-allow-origin': origin, vary: 'Origin' };
  };
  return { after: decorate, onError: decorate };
}

/** `OPTIONS /oauth/token`: the preflight, allowed for an origin some client of the tenant lists. */
export async function tokenPreflightEndpoint(deps: TenantContextDeps, event: HttpEvent): Promise<HttpResponse> {
  const origin = normalizedOrigin(header(event, 'origin'));
  const config = origin ? await tenantConfigOf(deps, event) : undefined;
  const allowed = origin && config && [...config.clients.values()].some((c) => listsOrigin(c.web_origins, origin));
  return {
    statusCode: 204,
    headers: allowed
      ? {
          'access-control-allow-origin': origin,
          'access-control-allow-methods': 'POST, OPTIONS',
          'access-control-allow-headers': ALLOWED_HEADERS,
          'access-control-max-age': '86400',
          vary: 'Origin',
        }
      : { vary: 'Origin' },
    body: '',
  };
}
