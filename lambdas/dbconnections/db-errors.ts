import { json, type HttpResponse } from '../http/responses.js';

/** Auth0's error body on /dbconnections/*: `{name, code, description, statusCode}`. */
export function dbError(statusCode: number, code: string, description: string, name = statusCode === 429 ? 'TooManyRequestsError' : 'BadRequestError'): HttpResponse {
  return json(statusCode, { name, code, description, statusCode });
}

/** The string fields of a JSON or form body; anything else reads as absent. */
export function bodyFields(body: unknown): Record<string, unknown> | undefined {
  return body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
}

export function stringField(fields: Record<string, unknown>, name: string): string | undefined {
  const v = fields[name];
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
export function isEmail(v: string): boolean {
  return v.length <= 254 && EMAIL.test(v);
}
