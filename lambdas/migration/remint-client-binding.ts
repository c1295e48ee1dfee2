/**
 * An upstream refresh token belongs to the upstream application it was issued to, and a
 * migration source redeems with that one application's credentials. So a source serves only
 * the local client that stands for that application: the client with the same `client_id`
 * (apps keep their Auth0 ids), or one mapped to it on the source (`client_ids`), and only while
 * that client is enabled on the source's connection. The presenting client has already
 * authenticated as its type requires (a confidential client with its secret).
 */
import type { ClientRecord, MigrationSourceRecord } from '../store/records.js';
import { connectionByName, type TenantConfig } from '../store/tenant-config-repository.js';

export function isClientBoundToSource(config: TenantConfig, client: ClientRecord, source: MigrationSourceRecord): boolean {
  const ownClient = source.credentials.client_id === client.client_id || (source.client_ids ?? []).includes(client.client_id);
  const connection = connectionByName(config, source.connection);
  return ownClient && !!connection && connection.enabled_clients.includes(client.client_id);
}

/** The sources that may redeem a token presented by `client`; none means the token is refused before any upstream call. */
export function sourcesBoundToClient(config: TenantConfig, client: ClientRecord, sources: MigrationSourceRecord[]): MigrationSourceRecord[] {
  return sources.filter((s) => isClientBoundToSource(config, client, s));
}
