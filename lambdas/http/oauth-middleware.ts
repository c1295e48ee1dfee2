import type middy from '@middy/core';
import type { LogSink } from '../logs/log-sink.js';
import { OAuthError, oauthErrors } from '../oauth/errors.js';
import { rawBodyLength, type HttpEvent } from './event.js';
import { json } from './responses.js';
import { isStoreOverload, storeOverloadRetryAfterSeconds } from './store-overload.js';
import { UnknownTenantError } from './tenant-context.js';

type Request = middy.Request<HttpEvent, unknown, unknown>;

/** Refuses bodies over `maxBytes` before any parsing. */
export function bodyLimit(maxBytes: number): middy.MiddlewareObj<HttpEvent> {
  return {
    before: async (request: Request) => {
      if (rawBodyLength(request.event) > maxBytes) {
        throw new OAuthError(413, 'invalid_request', `The request body is larger than ${maxBytes} bytes.`);
      }
    },
  };
}

/**
 * Turns every error of the OAuth endpoints into an OAuth error body: domain errors keep their
 * status; client errors raised by middy (malformed JSON, ...) become `invalid_request`;
 * the store's overload (throttling, timeouts) is logged and answered 503 `temporarily_unavailable`
 * with Retry-After; anything else is logged and answered with a generic `server_error`, never a stack trace.
 */
export function oauthErrorResponses(sink: LogSink): middy.MiddlewareObj<HttpEvent> {
  return {
    onError: async (request: Request) => {
      const err = request.error as (Error & { statusCode?: number; expose?: boolean }) | null;
      if (err instanceof OAuthError) {
        request.response = json(err.status, err.body(), err.headers);
        return;
      }
      if (err instanceof UnknownTenantError) {
        request.response = json(404, { error: 'invalid_request', error_description: err.message });
        return;
      }
      const status = err?.statusCode;
      if (status && status >= 400 && status < 500) {
        const message = status === 404 ? 'Not found.' : 'The request body could not be parsed.';
        request.response = json(status === 404 ? 404 : 400, oauthErrors.invalidRequest(message).body());
        return;
      }
      if (isStoreOverload(err)) {
        // The store throttled or timed out: nothing was decided, the client may come back.
        sink.error('store_overloaded', { error_name: err?.name, error_message: err?.message?.slice(0, 500) });
        request.response = json(503, oauthErrors.temporarilyUnavailable().body(), { 'retry-after': String(storeOverloadRetryAfterSeconds()) });
        return;
      }
      sink.error('unhandled_error', { error_name: err?.name, error_message: err?.message?.slice(0, 500) });
      request.response = json(500, { error: 'server_error', error_description: 'An unexpected error occurred.' });
    },
  };
}
