import type { ManagementClient } from './management-client.js';
import type { ExportedClient, ExportedClientGrant, ExportedConnection, ExportedResourceServer, ExportedRole, TenantExport } from './tenant-export.js';

/**
 * The upstream tenant's configuration from its Management API. The machine client needs
 * `read:clients read:client_keys` (the secrets, so apps keep theirs), `read:resource_servers`,
 * `read:roles`, `read:client_grants` and `read:connections`.
 */
export async function readUpstreamTenant(api: ManagementClient, domain: string): Promise<TenantExport> {
  const [clients, resourceServers, roles, clientGrants, connections] = await Promise.all([
    api.getAll<ExportedClient>('clients', 'clients'),
    api.getAll<ExportedResourceServer>('resource-servers', 'resource_servers'),
    api.getAll<{ id: string; name: string; description?: string }>('roles', 'roles'),
    api.getAll<ExportedClientGrant>('client-grants', 'client_grants'),
    api.getAll<ExportedConnection>('connections?strategy=auth0', 'connections'),
  ]);
  const withPermissions: ExportedRole[] = [];
  for (const role of roles) {
    const permissions = await api.getAll<ExportedRole['permissions'][number]>(`roles/${encodeURIComponent(role.id)}/permissions`, 'permissions');
    withPermissions.push({
      name: role.name,
      description: role.description,
      permissions: permissions.map((x) => ({ resource_server_identifier: x.resource_server_identifier, permission_name: x.permission_name })),
    });
  }
  return { origin: `upstream Management API ${domain}`, clients, resourceServers, roles: withPermissions, clientGrants, connections };
}
