import type { PermissionRef, RoleRecord } from '../store/records.js';
import type { TenantConfig } from '../store/tenant-config-repository.js';

/** The roles of these ids that still exist (a deleted role grants nothing). */
export function existingRoles(config: TenantConfig, roleIds: string[]): RoleRecord[] {
  return roleIds.map((id) => config.roles.get(id)).filter((r): r is RoleRecord => !!r);
}

/** A user's permissions through their roles, each once, optionally only those of one API. */
export function permissionsOfRoles(roles: RoleRecord[], audience?: string): PermissionRef[] {
  const seen = new Map<string, PermissionRef>();
  for (const role of roles) {
    for (const p of role.permissions) {
      if (audience !== undefined && p.resource_server_identifier !== audience) continue;
      seen.set(`${p.resource_server_identifier}\u0000${p.permission_name}`, p);
    }
  }
  return [...seen.values()];
}
