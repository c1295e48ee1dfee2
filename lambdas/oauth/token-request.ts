import { z } from 'zod';
import { oauthErrors } from './errors.js';

/** Every token request field is a bounded string; unknown fields are ignored, as OAuth says. */
const field = (max = 2048) => z.string().max(max);

export const baseTokenRequest = z.object({
  grant_type: field(200),
  client_id: field(200).optional(),
  client_secret: field(500).optional(),
});

export const passwordRequest = z.object({
  username: field(512).min(1),
  password: field(1024).min(1),
  realm: field(128).optional(),
  scope: field().optional(),
  audience: field(600).optional(),
});

export const refreshRequest = z.object({
  refresh_token: field(4096).min(1),
  scope: field().optional(),
});

export const clientCredentialsRequest = z.object({
  audience: field(600).optional(),
  scope: field().optional(),
});

export const revokeRequest = z.object({
  token: field(4096).min(1),
  client_id: field(200).optional(),
  client_secret: field(500).optional(),
});

/** Validates a parsed body against a schema; the first problem becomes `invalid_request`. */
export function parseFields<T extends z.ZodType>(schema: T, body: Record<string, string>): z.infer<T> {
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
