import * as z from 'zod/mini';
import { existingRoles } from '../identity/user-permissions.js';
import type { UserRecord } from '../store/records.js';
import type { Deps } from '../deps.js';
import { currentConfig, noContent, nowIso, ok, type ManagementEndpoint, type ManagementRequest } from './endpoint.js';
import { managementErrors } from './errors.js';
import { listBody, pagingOf, pagingQuery, parseBody, parseQuery, pathParam } from './request.js';
import { permissionView, ROLE_ID } from './roles.js';
import { USER_ID } from './users.js';

const pagingOnly = z.strictObject({ ...pagingQuery });
const rolesBody = z.strictObject({
  roles: z.array(z.string().check(z.regex(ROLE_ID, 'Expected a role id'))).check(z.minLength(1), z.maxLength(100)),
});

async function findUser(req: ManagementRequest<Pick<Deps, 'users'>>): Promise<UserRecord> {
  const id = pathParam(req.event, 'id', USER_ID);
  const user = await req.deps.users.getUser(req.ctx.tenant, id);
  if (!user) throw managementErrors.notFound('inexistent_user', 'The user does not exist.');
  return user;
}

/** `/api/v2/users/{id}/roles` and `/users/{id}/permissions`, in Auth0's shapes. */
export const userRoleEndpoints = {
  listRoles: {
    scopes: ['read:roles'],
    async run(req: ManagementRequest<Pick<Deps, 'tenantConfigs' | 'users' | 'roleMembers'>>) {
      const q = parseQuery(pagingOnly, req.event);
      const user = await findUser(req);
      const [config, roleIds] = await Promise.all([currentConfig(req), req.deps.roleMembers.roleIdsOf(user)]);
      const roles = existingRoles(config, roleIds)
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((r) => ({ id: r.id, name: r.name, description: r.description ?? '' }));
      return ok(listBody('roles', roles, pagingOf(q)));
    },
  },
  assignRoles: {
    scopes: ['create:role_members'],
    write: { description: 'Assign roles to user', config: false },
    async run(req: ManagementRequest<Pick<Deps, 'tenantConfigs' | 'users' | 'roleMembers' | 'now'>>) {
      const user = await findUser(req);
      const body = parseBody(rolesBody, req.event);
      const config = await currentConfig(req);
      if (body.roles.some((id) => !config.roles.has(id))) throw managementErrors.notFound('inexistent_role', 'The role does not exist.');
      await req.deps.roleMembers.assign(user, [...new Set(body.roles)], nowIso(req.deps));
      return noContent();
    },
  },
  removeRoles: {
    scopes: ['delete:role_members'],
    write: { description: 'Remove roles from user', config: false },
    async run(req: ManagementRequest<Pick<Deps, 'users' | 'roleMembers'>>) {
      const user = await findUser(req);
      const body = parseBody(rolesBody, req.event);
      await req.deps.roleMembers.remove(user, [...new Set(body.roles)]);
      return noContent();
    },
  },
  listPermissions: {
    scopes: ['read:users'],
    async run(req: ManagementRequest<Pick<Deps, 'tenantConfigs' | 'users' | 'roleMembers'>>) {
      const q = parseQuery(pagingOnly, req.event);
      const user = await findUser(req);
      const [config, roleIds] = await Promise.all([currentConfig(req), req.deps.roleMembers.roleIdsOf(user)]);
      const byKey = new Map<string, ReturnType<typeof permissionView> & { sources: object[] }>();
      for (const role of existingRoles(config, roleIds)) {
        for (const p of role.permissions) {
          const key = `${p.resource_server_identifier}\u0000${p.permission_name}`;
          const entry = byKey.get(key) ?? { ...permissionView(config, p), sources: [] };
          entry.sources.push({ source_id: role.id, source_name: role.name, source_type: 'ROLE' });
          byKey.set(key, entry);
        }
      }
      const all = [...byKey.values()].sort(
        (a, b) => a.resource_server_identifier.localeCompare(b.resource_server_identifier) || a.permission_name.localeCompare(b.permission_name),
      );
      return ok(listBody('permissions', all, pagingOf(q)));
    },
  },
} satisfies Record<string, ManagementEndpoint>;
