import type middy from '@middy/core';
import { RegistrationDeniedError } from '../identity/registration-hooks.js';
import type { LogSink } from '../logs/log-sink.js';
import { rawBodyLength, type HttpEvent } from '../http/event.js';
import { jsonDepth, MAX_JSON_DEPTH } from '../http/json-depth.js';
import { json, type HttpResponse } from '../http/responses.js';
import { isStoreOverload, storeOverloadRetryAfterSeconds } from '../http/store-overload.js';
import { UnknownTenantError } from '../http/tenant-context.js';
import type { WriteOutcome } from '../ports.js';

const statusTexts: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** An error of the Management API in Auth0's shape `{statusCode, error, message, errorCode}`. */
export class ManagementError extends Error {
  constructor(
    readonly statusCode: number,
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
    this.name = 'ManagementError';
  }

  body() {
    return {
      statusCode: this.statusCode,
      error: statusTexts[this.statusCode] ?? 'Error',
      message: this.message,
      errorCode: this.errorCode,
    };
  }

  response(): HttpResponse {
    return json(this.statusCode, this.body());
  }
}

export const managementErrors = {
  missingAuthentication: () => new ManagementError(401, 'missing_authentication', 'Missing authentication'),
  invalidToken: () => new ManagementError(401, 'invalid_token', 'Invalid token'),
  expiredToken: () => new ManagementError(401, 'token_expired', 'Expired token received for JSON Web Token validation'),
  insufficientScope: (scopes: readonly string[]) =>
    new ManagementError(403, 'insufficient_scope', `Insufficient scope, expected any of: ${scopes.join(',')}`),
  invalidBody: (message: string) => new ManagementError(400, 'invalid_body', `Payload validation error: ${message}`),
  invalidJson: () => new ManagementError(400, 'invalid_body', 'Invalid request payload JSON format'),
  invalidQuery: (message: string) => new ManagementError(400, 'invalid_query_string', `Query validation error: ${message}`),
  invalidUri: (message: string) => new ManagementError(400, 'invalid_uri', `Path validation error: ${message}`),
  badRequest: (errorCode: string, message: string) => new ManagementError(400, errorCode, message),
  notFound: (errorCode: string, message: string) => new ManagementError(404, errorCode, message),
  conflict: (errorCode: string, message: string) => new ManagementError(409, errorCode, message),
  bodyTooLarge: (maxBytes: number) =>
    new ManagementError(413, 'payload_too_large', `The request body is larger than ${maxBytes} bytes.`),
  routeNotFound: () => new ManagementError(404, 'not_found', 'Not Found'),
};

type Request = middy.Request<HttpEvent, unknown, unknown>;

/** Refuses bodies over `maxBytes` (or the route's own limit) before any parsing, in the Management error shape. */
export function managementBodyLimit(maxBytes: number, perRoute: Record<string, number> = {}): middy.MiddlewareObj<HttpEvent> {
  return {
    before: async (request: Request) => {
      const limit = perRoute[request.event.routeKey] ?? maxBytes;
      if (rawBodyLength(request.event) > limit) throw managementErrors.bodyTooLarge(limit);
      const body = request.event.body;
      if (typeof body === 'string') {
        const text = request.event.isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body;
        if (jsonDepth(text) > MAX_JSON_DEPTH) {
          throw managementErrors.invalidBody(`'Too deeply nested: at most ${MAX_JSON_DEPTH} levels' on property (root).`);
        }
      }
    },
  };
}

/**
 * Turns every error of the Management API into Auth0's error body. Domain errors keep their
 * status; client errors raised by middy (malformed JSON) become 400 `invalid_body`; anything
 * else is logged (name and a short message, never a stack or a body) and answered with a
 * generic 500, but the store's overload (throttling, timeouts), answered 503 with Retry-After.
 */
export function managementErrorResponses(sink: LogSink): middy.MiddlewareObj<HttpEvent> {
  return {
    onError: async (request: Request) => {
      const err = request.error as (Error & { statusCode?: number }) | null;
      if (err instanceof ManagementError) {
        request.response = err.response();
        return;
      }
      if (err instanceof RegistrationDeniedError) {
        request.response = new ManagementError(400, 'registration_denied', err.userMessage).response();
        return;
      }
      if (err instanceof UnknownTenantError) {
        request.response = managementErrors.notFound('inexistent_tenant', 'No tenant is configured for this domain').response();
        return;
      }
      const status = err?.statusCode;
      if (status === 404) {
        request.response = managementErrors.routeNotFound().response();
        return;
      }
      if (status && status >= 400 && status < 500) {
        request.response = managementErrors.invalidJson().response();
        return;
      }
      if (isStoreOverload(err)) {
        // The store throttled or timed out: nothing was decided, the client may come back.
        sink.error('store_overloaded', { error_name: err?.name, error_message: err?.message?.slice(0, 200) });
        const response = new ManagementError(503, 'temporarily_unavailable', 'The service is temporarily unavailable, try again later.').response();
        request.response = { ...response, headers: { ...response.headers, 'retry-after': String(storeOverloadRetryAfterSeconds()) } };
        return;
      }
      sink.error('unhandled_error', { error_name: err?.name, error_message: err?.message?.slice(0, 200) });
      request.response = new ManagementError(500, 'internal_error', 'An unexpected error occurred.').response();
    },
  };
}

/**
 * Answers a write of an item that must already exist (`{ mustExist: true }`): when it is gone
 * (`not_found`), `notFound` is thrown instead.
 */
export async function writeExisting(write: Promise<WriteOutcome>, notFound: () => ManagementError): Promise<void> {
  if (!(await write).ok) throw notFound();
}

/**
 * Answers the write of a new item (`{ mustNotExist: true }`): one with the same id already there
 * (`conflict`) is a 409, `conflict()` or Auth0's generic one.
 */
export async function writeNew(write: Promise<WriteOutcome>, conflict?: () => ManagementError): Promise<void> {
  if (!(await write).ok) throw conflict?.() ?? managementErrors.conflict('conflict', 'The resource already exists');
}
