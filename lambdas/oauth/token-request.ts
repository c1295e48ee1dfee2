import * as z from 'zod/mini';
import { oauthErrors } from './errors.js';

/** Every token request field is a bounded string; unknown fields are ignored, as OAuth says. */
const field = (max = 2048) => z.string().check(z.maxLength(max));
const required = (max = 2048) => z.string().check(z.minLength(1), z.maxLength(max));
/** Credentials are bounded in bytes (UTF-8), as bcrypt and the upstream count them. */
const requiredBytes = (max: number) =>
  z.string().check(z.minLength(1), z.refine((v) => Buffer.byteLength(v, 'utf8') <= max, `Too big: expected at most ${max} bytes`));

export const baseTokenRequest = z.object({
  grant_type: field(200),
  client_id: z.optional(field(200)),
  client_secret: z.optional(field(500)),
});

export const passwordRequest = z.object({
  username: requiredBytes(512),
  password: requiredBytes(1024),
  realm: z.optional(field(128)),
  scope: z.optional(field()),
  audience: z.optional(field(600)),
});

export const refreshRequest = z.object({
  refresh_token: required(4096),
  scope: z.optional(field()),
});

export const clientCredentialsRequest = z.object({
  audience: z.optional(field(600)),
  scope: z.optional(field()),
});

export const revokeRequest = z.object({
  token: required(4096),
  client_id: z.optional(field(200)),
  client_secret: z.optional(field(500)),
});

/** Validates a parsed body against a schema; the first problem becomes `invalid_request`. */
export function parseFields<T extends z.ZodMiniType>(schema: T, body: Record<string, string>): z.infer<T> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const name = String(issue.path[0] ?? 'body');
  if (issue.code === 'invalid_type' && body[name] === undefined) {
    throw oauthErrors.invalidRequest(`Missing required parameter: ${name}`);
  }
  if (issue.code === 'too_small') throw oauthErrors.invalidRequest(`Missing required parameter: ${name}`);
  throw oauthErrors.invalidRequest(`Invalid parameter: ${name}`);
}
