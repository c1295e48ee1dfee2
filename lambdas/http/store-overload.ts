/**
 * The store's "not now": DynamoDB throttling, its internal errors and client timeouts under
 * load. Nothing was decided about the request, so it is answered as retryable (503 with
 * Retry-After) instead of a 500 a client gives up on; the error is still logged.
 */

/** Error names of DynamoDB (and its SDK client) that mean "overloaded, try again". */
const OVERLOAD_NAMES = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);
/** Errors of the SDK's HTTP layer when the store did not answer in time. */
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'ECONNRESET', 'EPIPE']);
/** Clients come back after 1–3 s (jittered, so an overloaded fleet is not hit again all at once). */
const MIN_RETRY_AFTER_SECONDS = 1;
const RETRY_AFTER_SPREAD_SECONDS = 2;

interface MaybeSdkError {
  name?: unknown;
  code?: unknown;
  $metadata?: unknown;
  $retryable?: { throttling?: boolean };
}

/** Whether `err` is the store being overloaded (throttled, failing inside, or not answering in time). */
export function isStoreOverload(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as MaybeSdkError;
  if (e.$retryable?.throttling) return true;
  if (typeof e.name !== 'string') return false;
  // An AWS SDK service error carries `$metadata`; http-errors' own 500 is also named InternalServerError.
  if (e.name === 'InternalServerError') return e.$metadata !== undefined;
  if (OVERLOAD_NAMES.has(e.name)) return true;
  return e.$metadata !== undefined && typeof e.code === 'string' && TIMEOUT_CODES.has(e.code);
}

/** The Retry-After (seconds) of an answer to a store overload. */
export function storeOverloadRetryAfterSeconds(random: () => number = Math.random): number {
  return MIN_RETRY_AFTER_SECONDS + Math.floor(random() * (RETRY_AFTER_SPREAD_SECONDS + 1));
}
