import { createHash, timingSafeEqual } from 'node:crypto';
import type { ClientRecord } from '../store/records.js';
import type { TenantConfig } from '../store/tenant-config-repository.js';
import { oauthErrors } from './errors.js';

export function hashClientSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

function secretMatches(secret: string, storedHash: string | undefined): boolean {
  if (!storedHash) return false;
  const a = Buffer.from(hashClientSecret(secret), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Reads HTTP Basic client credentials. Per RFC 6749 §2.3.1 (and openid-client) both halves are
 * form-url-encoded before base64, so both are URL-decoded here.
 */
export function parseBasicAuthorization(value: string | undefined): { id: string; secret: string } | undefined {
  if (value === undefined) return undefined;
  const m = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(value);
  if (!m) throw oauthErrors.invalidRequest('Malformed Authorization header.');
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) throw oauthErrors.invalidRequest('Malformed Authorization header.');
  try {
    const unescape = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
    return { id: unescape(decoded.slice(0, colon)), secret: unescape(decoded.slice(colon + 1)) };
  } catch {
    throw oauthErrors.invalidRequest('Malformed Authorization header.');
  }
}

/**
 * Authenticates the client of a token request: client_secret_basic, client_secret_post, or a
 * public client (`token_endpoint_auth_method: none`) that sends only its client_id.
 */
export function authenticateClient(
  config: TenantConfig,
  p: { authorization?: string; clientId?: string; clientSecret?: string; secretRequired?: boolean },
): ClientRecord {
  const basic = p.authorization?.match(/^Basic\s/i) ? parseBasicAuthorization(p.authorization) : undefined;
  if (basic && p.clientSecret !== undefined) {
    throw oauthErrors.invalidRequest('Use only one client authentication method.');
  }
  if (basic && p.clientId !== undefined && p.clientId !== basic.id) {
    throw oauthErrors.invalidRequest('client_id does not match the Authorization header.');
  }
  const clientId = basic?.id ?? p.clientId;
  if (!clientId) throw oauthErrors.invalidRequest('Missing required parameter: client_id');
  const secret = basic?.secret ?? p.clientSecret;
  const client = config.clients.get(clientId);
  if (!client) throw oauthErrors.invalidClient();
  if (client.token_endpoint_auth_method === 'none') {
    if (p.secretRequired) throw oauthErrors.invalidClient();
    return client;
  }
  if (secret === undefined || !secretMatches(secret, client.client_secret_hash)) {
    throw oauthErrors.invalidClient();
  }
  return client;
}

export function ensureGrantAllowed(client: ClientRecord, grantType: string): void {
  if (!client.grant_types.includes(grantType)) throw oauthErrors.unauthorizedClient(grantType);
}
