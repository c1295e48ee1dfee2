import type { HttpEvent } from '../http/event.js';
import { header } from '../http/event.js';
import { oauthErrors } from './errors.js';

/**
 * The parsed body of an OAuth request as a flat string map. The middy body parsers have already
 * turned JSON and form bodies into objects; anything else (another content type, arrays,
 * nested objects, repeated form fields) is an `invalid_request`.
 */
export function formBody(event: HttpEvent): Record<string, string> {
  const body = event.body;
  if (body === undefined || body === null || body === '') {
    throw oauthErrors.invalidRequest('The request body is empty.');
  }
  if (typeof body === 'string') {
    const type = header(event, 'content-type') ?? 'none';
    throw oauthErrors.invalidRequest(
      `Unsupported content type ${type.slice(0, 80)}; use application/x-www-form-urlencoded or application/json.`,
    );
  }
  if (typeof body !== 'object' || Array.isArray(body)) throw oauthErrors.invalidRequest('The body must be an object.');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
    if (v === undefined || v === null) continue;
    if (typeof v === 'string') out[k] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
    else throw oauthErrors.invalidRequest(`Invalid parameter: ${k.slice(0, 64)}`);
  }
  return out;
}
