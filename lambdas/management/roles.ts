import * as z from 'zod/mini';
import { randomAlnum } from '../store/defaults.js';
import { keys } from '../store/keys.js';
import type { PermissionRef, RoleRecord, UserRecord } from '../store/records.js';
import type { TenantConfig } from '../store/tenant-config-repository.js';
import type { Deps } from '../deps.js';
import { created, currentConfig, noContent, nowIso, ok, type ManagementEndpoint, type ManagementRequest } from './endpoint.js';
import { managementErrors, writeExisting, writeNew } from './errors.js';
import { listBody, pagingOf, pagingQuery, parseBody, parseQuery, pathParam, text } from './request.js';
import { USER_ID } from './users.js';

export const ROLE_ID = /^rol_[A-Za-z0-9]{16}$/;
/** Auth0 caps the permissions of one role; a role item must stay well under DynamoDB's 400 KB. */
const MAX_PERMISSIONS_PER_ROLE = 1000;

const createSchema = z.strictObject({ name: text(50), description: z.optional(z.string().check(z.maxLength(255))) });
const patchSchema = z.partial(createSchema);
const listQuery = z.strictObject({ ...pagingQuery, name_filter: z.optional(z.string().check(z.maxLength(50))) });
const pagingOnly = z.strictObject({ ...pagingQuery });
const permissionRef = z.strictObject({
  resource_server_identifier: z.string().check(z.minLength(1), z.maxLength(600)),
  permission_name: z.string().check(z.minLength(1), z.maxLength(280)),
});
export const permissionsBody = z.strictObject({ permissions: z.array(permissionRef).check(z.minLength(1), z.maxLength(100)) });
const usersBody = z.strictObject({
  users: z.array(z.string().check(z.regex(USER_ID, 'Expected a user id'))).check(z.minLength(1), z.maxLength(100)),
});

const roleNotFound = () => managementErrors.notFound('inexistent_role', 'The role does not exist.');
const roleView = (r: RoleRecord) => ({ id: r.id, name: r.name, description: r.description ?? '' });

/** Permissions as Auth0 lists them, with the API's name and the scope's description. */
export function permissionView(config: TenantConfig, p: PermissionRef) {
  const api = config.resourceServers.get(p.resource_server_identifier);
  return {
    resource_server_identifier: p.resource_server_identifier,
    permission_name: p.permission_name,
    resource_server_name: api?.name ?? '',
    description: api?.scopes.find((s) => s.value === p.permission_name)?.description ?? '',
  };
}

/** Each permission must name a scope its API defines. */
export function assertPermissionsExist(config: TenantConfig, permissions: PermissionRef[]): void {
  permissions.forEach((p, i) => {
    const api = config.resourceServers.get(p.resource_server_identifier);
    if (!api) throw managementErrors.notFound('inexistent_resource_server', `Resource server not found: ${p.resource_server_identifier}`);
    if (!api.scopes.some((s) => s.value === p.permission_name)) {
      throw managementErrors.invalidBody(`'Unknown permission for this resource server' on property permissions.${i}.permission_name.`);
    }
  });
}

const sameRef = (a: PermissionRef, b: PermissionRef) =>
  a.resource_server_identifier === b.resource_server_identifier && a.permission_name === b.permission_name;

async function findRole(req: ManagementRequest<Pick<Deps, 'tenantConfigs'>>): Promise<{ role: RoleRecord; config: TenantConfig }> {
  const id = pathParam(req.event, 'id', ROLE_ID);
  const config = await currentConfig(req);
  const role = config.roles.get(id);
  if (!role) throw roleNotFound();
  return { role, config };
}

async function saveRole(req: ManagementRequest<Pick<Deps, 'tenantConfigs'>>, role: RoleRecord): Promise<void> {
  await writeExisting(req.deps.tenantConfigs.putRole(req.ctx.tenant, role, { mustExist: true }), roleNotFound);
}

/** The listed members of a role that really hold it (their own side of the membership exists). */
async function membersOf(req: ManagementRequest<Pick<Deps, 'users' | 'roleMembers'>>, roleId: string): Promise<UserRecord[]> {
  const { deps, ctx } = req;
  const listed = await deps.roleMembers.listedMembers(ctx.tenant, roleId);
  const members: UserRecord[] = [];
  for (let i = 0; i < listed.length; i += 50) {
    const ids = listed.slice(i, i + 50);
    const found = await deps.users.getMany(
      ids.flatMap((id) => [keys.user(ctx.tenant, id), deps.roleMembers.membershipKey(ctx.tenant, id, roleId)]),
    );
    for (const id of ids) {
      const user = found.get(`${keys.user(ctx.tenant, id).pk}|USER`) as UserRecord | undefined;
      const own = found.get(`${keys.userRole(ctx.tenant, id, roleId).pk}|ROLE#${roleId}`);
      if (user && own && own.user_created_at === user.created_at) members.push(user);
    }
  }
  return members;
}

export const roleEndpoints = {
  list: {
    scopes: ['read:roles'],
    async run(req: ManagementRequest<Pick<Deps, 'tenantConfigs'>>) {
      const q = parseQuery(listQuery, req.event);
      const filter = q.name_filter?.toLowerCase();
      const all = [...(await currentConfig(req)).roles.values()]
        .filter((r) => !filter || r.name.toLowerCase().includes(filter))
        .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id))
        .map(roleView);
      return ok(listBody('roles', all, pagingOf(q)));
    },
  },
  get: {
    scopes: ['read:roles'],
    async run(req: ManagementRequest<Pick<Deps, 'tenantConfigs'>>) {
      return ok(roleView((await findRole(req)).role));
    },
  },
  create: {
    scopes: ['create:roles'],
    write: { description: 'Create role', config: true },
    async run(req: ManagementRequest<Pick<Deps, 'tenantConfigs'>>) {
      const body = parseBody(createSchema, req.event);
      const config = await currentConfig(req);
      if ([...config.roles.values()].some((r) => r.name === body.name)) {
        throw managementErrors.conflict('conflict', 'A role with the same name already exists');
      }
      const role: RoleRecord = { id: `rol_${randomAlnum(16)}`, name: body.name, description: body.description, permissions: [] };
      await writeNew(req.deps.tenantConfigs.putRole(req.ctx.tenant, role, { mustNotExist: true }));
      return created(roleView(role));
    },
  },
  update: {
    scopes: ['update:roles'],
    write: { description: 'Update role', config: true },
    async run(req: ManagementRequest<Pick<Deps, 'tenantConfigs'>>) {
      const { role, config } = await findRole(req);
      const body = parseBody(patchSchema, req.event);
      if (body.name && [...config.roles.values()].some((r) => r.name === body.name && r.id !== role.id)) {
        throw managementErrors.conflict('conflict', 'A role with the same name already exists');
      }
      const record = { ...role, ...body };
      await saveRole(req, record);
      return ok(roleView(record));
    },
  },
  delete: {
    scopes: ['delete:roles'],
    write: { description: 'Delete role', config: true },
    async run(req: ManagementRequest<Pick<Deps, 'tenantConfigs'>>) {
      const { role } = await findRole(req);
      // Memberships of a deleted role are left behind: tokens only count roles that exist.
      await req.deps.tenantConfigs.deleteItem(keys.role(req.ctx.tenant, role.id));
      return noContent();
    },
  },
  listPermissions: {
    scopes: ['read:roles'],
    async run(req: ManagementRequest<Pick<Deps, 'tenantConfigs'>>) {
      const { role, config } = await findRole(req);
      const q = parseQuery(pagingOnly, req.event);
      return ok(listBody('permissions', role.permissions.map((p) => permissionView(config, p)), pagingOf(q)));
    },
  },
  addPermissions: {
    scopes: ['update:roles'],
    write: { description: 'Add permissions to role', config: true },
    async run(req: ManagementRequest<Pick<Deps, 'tenantConfigs'>>) {
      const { role, config } = await findRole(req);
      const body = parseBody(permissionsBody, req.event);
      assertPermissionsExist(config, body.permissions);
      const permissions = [...role.permissions];
      for (const p of body.permissions) if (!permissions.some((q) => sameRef(p, q))) permissions.push(p);
      if (permissions.length > MAX_PERMISSIONS_PER_ROLE) {
        throw managementErrors.badRequest('too_many_permissions', `A role can hold at most ${MAX_PERMISSIONS_PER_ROLE} permissions.`);
      }
      await saveRole(req, { ...role, permissions });
      return created({});
    },
  },
  removePermissions: {
    scopes: ['update:roles'],
    write: { description: 'Remove permissions from role', config: true },
    async run(req: ManagementRequest<Pick<Deps, 'tenantConfigs'>>) {
      const { role } = await findRole(req);
      const body = parseBody(permissionsBody, req.event);
      await saveRole(req, { ...role, permissions: role.permissions.filter((p) => !body.permissions.some((q) => sameRef(p, q))) });
      return noContent();
    },
  },
  listUsers: {
    scopes: ['read:role_members'],
    async run(req: ManagementRequest<Pick<Deps, 'tenantConfigs' | 'users' | 'roleMembers'>>) {
      const { role } = await findRole(req);
      const q = parseQuery(pagingOnly, req.event);
      const users = (await membersOf(req, role.id)).map((u) => ({ user_id: u.user_id, email: u.email, name: u.name, picture: u.picture }));
      return ok(listBody('users', users, pagingOf(q)));
    },
  },
  addUsers: {
    scopes: ['create:role_members'],
    write: { description: 'Assign users to role', config: false },
    async run(req: ManagementRequest<Pick<Deps, 'tenantConfigs' | 'users' | 'roleMembers' | 'now'>>) {
      const { role } = await findRole(req);
      const body = parseBody(usersBody, req.event);
      const found = await req.deps.users.getMany(body.users.map((id) => keys.user(req.ctx.tenant, id)));
      const users = body.users.map((id) => found.get(`${keys.user(req.ctx.tenant, id).pk}|USER`) as UserRecord | undefined);
      if (users.some((u) => !u)) throw managementErrors.notFound('inexistent_user', 'The user does not exist.');
      const at = nowIso(req.deps);
      for (const user of users as UserRecord[]) await req.deps.roleMembers.assign(user, [role.id], at);
      return ok({});
    },
  },
} satisfies Record<string, ManagementEndpoint>;
