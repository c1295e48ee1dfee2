import type { Deps } from '../deps.js';
import type { HttpEvent } from '../http/event.js';
import type { HttpResponse } from '../http/responses.js';
import { UnknownTenantError } from '../http/tenant-context.js';
import { errorPage } from './html.js';

export type Endpoint<D = Deps> = (deps: D, event: HttpEvent) => Promise<HttpResponse>;

/**
 * Browser-facing endpoints answer with HTML, never with the OAuth JSON error body: anything
 * thrown becomes an error page (unexpected errors are logged, their details never shown).
 */
export function htmlEndpoint<D extends Pick<Deps, 'sink'>>(endpoint: Endpoint<D>): Endpoint<D> {
  return async (deps, event) => {
    try {
      return await endpoint(deps, event);
    } catch (err) {
      if (err instanceof UnknownTenantError) return errorPage(404, 'invalid_request', 'No tenant is configured for this domain.');
      const e = err as Error | undefined;
      deps.sink.error('unhandled_error', { error_name: e?.name, error_message: e?.message?.slice(0, 500), path: event.rawPath });
      return errorPage(500, 'server_error', 'An unexpected error occurred.');
    }
  };
}

/** The query parameters of a request as a flat map. */
export function queryOf(event: HttpEvent): Record<string, string | undefined> {
  return { ...(event.queryStringParameters ?? {}) };
}

/** The fields of a parsed form body; a repeated or non-string field is dropped. */
export function formFieldsOf(event: HttpEvent): Record<string, string | undefined> {
  const body = event.body;
  if (!body || typeof body !== 'object' || Array.isArray(body)) return {};
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) if (typeof v === 'string') out[k] = v;
  return out;
}
