import { describe, expect, it } from 'vitest';
import { isStoreOverload, storeOverloadRetryAfterSeconds } from '../../lambdas/http/store-overload.js';

const sdkError = (name: string, extra: Record<string, unknown> = {}) => Object.assign(new Error('x'), { name, $metadata: { httpStatusCode: 400 }, ...extra });

describe('which errors are the store being overloaded (answered retryable, not 500)', () => {
  it.each(['ThrottlingException', 'ProvisionedThroughputExceededException', 'RequestLimitExceeded', 'InternalServerError', 'RequestTimeout', 'TimeoutError'])(
    "DynamoDB's %s is an overload",
    (name) => expect(isStoreOverload(sdkError(name))).toBe(true),
  );

  it("the SDK client's own timeout (no response, so no $metadata) and any error the SDK marks as throttling are overloads", () => {
    expect(isStoreOverload(Object.assign(new Error('timed out'), { name: 'TimeoutError' }))).toBe(true);
    expect(isStoreOverload(Object.assign(new Error('slow'), { name: 'SomethingNew', $retryable: { throttling: true } }))).toBe(true);
    expect(isStoreOverload(sdkError('Error', { code: 'ECONNRESET' }))).toBe(true);
  });

  it('a bug, a validation error, a conditional-check failure, or an http-errors 500 (not from AWS) is not', () => {
    expect(isStoreOverload(new TypeError('x is undefined'))).toBe(false);
    expect(isStoreOverload(sdkError('ValidationException'))).toBe(false);
    expect(isStoreOverload(sdkError('ConditionalCheckFailedException'))).toBe(false);
    expect(isStoreOverload(Object.assign(new Error('boom'), { name: 'InternalServerError', statusCode: 500 }))).toBe(false);
    expect(isStoreOverload(null)).toBe(false);
    expect(isStoreOverload('ThrottlingException')).toBe(false);
  });

  it('its Retry-After is 1–3 s, spread by the random draw', () => {
    expect([0, 0.5, 0.999].map((r) => storeOverloadRetryAfterSeconds(() => r))).toEqual([1, 2, 3]);
  });
});
