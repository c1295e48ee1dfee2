import * as z from 'zod/mini';
import type { Deps } from '../deps.js';
import { createUser, type CreateUserDeps } from '../identity/create-user.js';
import { hashPassword } from '../identity/passwords.js';
import { passwordPolicyOf } from '../identity/password-policy.js';
import { keys, type ItemKey } from '../store/keys.js';
import type { ConnectionRecord, UserRecord } from '../store/records.js';
import { connectionByName } from '../store/tenant-config-repository.js';
import { withLoginStats } from '../store/login-stats.js';
import { created, currentConfig, noContent, nowIso, ok, type ManagementEndpoint, type ManagementRequest } from './endpoint.js';
import { managementErrors } from './errors.js';
import { boolString, listBody, pagingOf, pagingQuery, parseBody, parseQuery, pathParam, selectFields, text } from './request.js';
import { exactEmailOf, matchesSearch, parseUserSearch } from './user-search.js';
import { displayNames } from '../identity/display-names.js';

/** Auth0 user ids: `provider|id`, printable, bounded. */
export const USER_ID = /^[A-Za-z0-9_-]{1,64}\|[A-Za-z0-9_.@|-]{1,200}$/;
const SEARCH_LIMIT = 1000;

const email = z.string().check(z.maxLength(254), z.email());
const metadata = z.record(z.string().check(z.maxLength(255)), z.unknown());
const profileFields = {
  email_verified: z.optional(z.boolean()),
  username: z.optional(z.string().check(z.regex(/^[A-Za-z0-9_+.@-]{1,128}$/, 'Expected letters, digits and _+.@-'))),
  name: z.optional(text(300)),
  nickname: z.optional(text(300)),
  given_name: z.optional(text(150)),
  family_name: z.optional(text(150)),
  picture: z.optional(z.string().check(z.url(), z.maxLength(2048))),
  phone_number: z.optional(z.string().check(z.regex(/^\+?[0-9 ()-]{3,32}$/, 'Expected a phone number'))),
  blocked: z.optional(z.boolean()),
  verify_email: z.optional(z.boolean()),
};

/** Auth0's limit of 72 counts bytes (bcrypt's), not characters: 72 × "é" is 144 bytes. */
const passwordOf72Bytes = z.string().check(
  z.minLength(1),
  z.refine((p) => Buffer.byteLength(p, 'utf8') <= 72, 'Too big: expected at most 72 bytes'),
);

const createSchema = z.strictObject({
  connection: z.string().check(z.minLength(1), z.maxLength(128)),
  email,
  password: z.optional(passwordOf72Bytes),
  user_id: z.optional(z.string().check(z.regex(/^[A-Za-z0-9_.@-]{1,128}$/, 'Expected letters, digits and _.@-'))),
  app_metadata: z.optional(metadata),
  user_metadata: z.optional(metadata),
  ...profileFields,
});

const patchSchema = z.strictObject({
  connection: z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
  email: z.optional(email),
  password: z.optional(passwordOf72Bytes),
  app_metadata: z.optional(z.nullable(metadata)),
  user_metadata: z.optional(z.nullable(metadata)),
  client_id: z.optional(z.string().check(z.maxLength(64))),
  ...profileFields,
});

const listQuery = z.strictObject({
  ...pagingQuery,
  q: z.optional(z.string().check(z.maxLength(2000))),
  connection: z.optional(z.string().check(z.maxLength(128))),
  search_engine: z.optional(z.enum(['v1', 'v2', 'v3'])),
  sort: z.optional(z.string().check(z.regex(/^[a-z_]+:-?1$/, 'Expected field:1 or field:-1'))),
  primary_order: z.optional(boolString),
});

const byEmailQuery = z.strictObject({
  email,
  fields: pagingQuery.fields,
  include_fields: pagingQuery.include_fields,
});

const getQuery = z.strictObject({ fields: pagingQuery.fields, include_fields: pagingQuery.include_fields });

/** Auth0's user shape: profile, identities, metadata, login counters. Never a password hash. */
export function userView(u: UserRecord) {
  return {
    user_id: u.user_id,
    email: u.email,
    email_verified: u.email_verified ?? false,
    username: u.username,
    ...displayNames(u),
    given_name: u.given_name,
    family_name: u.family_name,
    picture: u.picture,
    phone_number: u.phone_number,
    identities: u.identities,
    app_metadata: u.app_metadata ?? {},
    user_metadata: u.user_metadata ?? {},
    blocked: u.blocked ?? false,
    created_at: u.created_at,
    updated_at: u.updated_at,
    last_login: u.last_login,
    last_ip: u.last_ip,
    logins_count: u.logins_count ?? 0,
    /** How the user arrived here (import, password_fallback, refresh_remint, …), with source and time: not an Auth0 field. */
    ...(u.arrival ? { arrival: u.arrival } : {}),
  };
}

/** Login statistics are kept apart from the user item (see store/login-stats.ts): read them for what is shown. */
async function withStats(req: ManagementRequest<Pick<Deps, 'usersListing'>>, users: UserRecord[]): Promise<UserRecord[]> {
  if (users.length === 0) return users;
  const stats = await req.deps.usersListing.loginStats(req.ctx.tenant, users.map((u) => u.user_id));
  return users.map((u) => withLoginStats(u, stats.get(u.user_id)));
}

const loginStatsFields = new Set(['last_login', 'last_ip', 'logins_count']);

const userNotFound = () => managementErrors.notFound('inexistent_user', 'The user does not exist.');
const userExists = () => managementErrors.conflict('auth0_idp_error', 'The user already exists.');

async function findUser(req: ManagementRequest<Pick<Deps, 'users'>>): Promise<UserRecord> {
  const id = pathParam(req.event, 'id', USER_ID);
  const user = await req.deps.users.getUser(req.ctx.tenant, id);
  if (!user) throw userNotFound();
  return user;
}

/** Users holding this email in any database connection of the tenant (from the email claims). */
async function usersByEmail(req: ManagementRequest<Pick<Deps, 'users'>>, address: string, connections: ConnectionRecord[]): Promise<UserRecord[]> {
  if (connections.length === 0) return [];
  const claims = await req.deps.users.getMany(connections.map((c) => keys.emailClaim(req.ctx.tenant, c.id, address)));
  const ids = [...new Set([...claims.values()].map((c) => String(c.user_id)))];
  if (ids.length === 0) return [];
  const found = await req.deps.users.getMany(ids.map((id) => keys.user(req.ctx.tenant, id)));
  return [...found.values()]
    .map(({ pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, ...u }) => u as unknown as UserRecord)
    .filter((u) => u.email === address)
    .sort((a, b) => a.user_id.localeCompare(b.user_id));
}

function minPasswordLength(connection: ConnectionRecord): number {
  return { none: 1, low: 6, fair: 8, good: 8, excellent: 10 }[connection.options.passwordPolicy ?? 'fair'] ?? 8;
}

function assertPasswordPolicy(connection: ConnectionRecord, password: string): void {
  if (password.length < minPasswordLength(connection)) {
    throw managementErrors.badRequest('password_strength_error', 'PasswordStrengthError: Password is too weak');
  }
  if (passwordPolicyOf(connection).dictionary?.has(password.toLowerCase())) {
    throw managementErrors.badRequest('password_dictionary_error', 'PasswordDictionaryError: Password is too common');
  }
}

/** Top-level merge as Auth0 does it: a `null` value removes the key, `null` for the whole object clears it. */
function mergeMetadata(current: Record<string, unknown>, patch: Record<string, unknown> | null | undefined) {
  if (patch === undefined) return current;
  if (patch === null) return {};
  const merged = { ...current };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete merged[k];
    else merged[k] = v;
  }
  return merged;
}

export const userEndpoints = {
  list: {
    scopes: ['read:users'],
    async run(req: ManagementRequest<Pick<Deps, 'usersListing' | 'tenantConfigs' | 'users'>>) {
      const q = parseQuery(listQuery, req.event);
      const terms = q.q ? parseUserSearch(q.q) : [];
      const config = await currentConfig(req);
      const accept = (u: UserRecord) => (q.connection === undefined || u.connection === q.connection) && matchesSearch(u, terms);
      const address = exactEmailOf(terms);
      const users = address
        ? (await usersByEmail(req, address, [...config.connections.values()])).filter(accept)
        : await req.deps.usersListing.find(req.ctx.tenant, accept, SEARCH_LIMIT);
      const paging = pagingOf(q);
      const [sortField, dir] = q.sort?.split(':') ?? [];
      // Sorting on a login statistic needs every match's statistics; otherwise only the page's.
      const sortsOnStats = !!sortField && loginStatsFields.has(sortField);
      const sorted = sortsOnStats ? await withStats(req, users) : [...users];
      if (sortField) {
        const sign = dir === '-1' ? -1 : 1;
        const value = (u: UserRecord) => {
          const v = (u as unknown as Record<string, unknown>)[sortField];
          return typeof v === 'number' ? v.toString().padStart(16, '0') : String(v ?? '');
        };
        sorted.sort((a, b) => sign * value(a).localeCompare(value(b)));
      }
      if (!sortsOnStats) {
        const start = paging.page * paging.perPage;
        sorted.splice(start, paging.perPage, ...(await withStats(req, sorted.slice(start, start + paging.perPage))));
      }
      const views = sorted.map((u) => selectFields(userView(u), q.fields, q.include_fields));
      return ok(listBody('users', views, paging));
    },
  },
  byEmail: {
    scopes: ['read:users'],
    async run(req: ManagementRequest<Pick<Deps, 'usersListing' | 'tenantConfigs' | 'users'>>) {
      const q = parseQuery(byEmailQuery, req.event);
      const config = await currentConfig(req);
      const users = await withStats(req, await usersByEmail(req, q.email.toLowerCase(), [...config.connections.values()]));
      return ok(users.map((u) => selectFields(userView(u), q.fields, q.include_fields)));
    },
  },
  get: {
    scopes: ['read:users'],
    async run(req: ManagementRequest<Pick<Deps, 'usersListing' | 'users'>>) {
      const q = parseQuery(getQuery, req.event);
      const [user] = await withStats(req, [await findUser(req)]);
      return ok(selectFields(userView(user), q.fields, q.include_fields));
    },
  },
  create: {
    scopes: ['create:users'],
    write: { description: 'Create a User', config: false },
    async run(req: ManagementRequest<Pick<Deps, 'tenantConfigs'> & CreateUserDeps>) {
      const body = parseBody(createSchema, req.event);
      const connection = connectionByName(await currentConfig(req), body.connection);
      if (!connection) throw managementErrors.badRequest('inexistent_connection', 'The connection does not exist.');
      if (connection.strategy === 'auth0' && body.password === undefined) {
        throw managementErrors.invalidBody(`'Missing required property: password' on property password.`);
      }
      if (body.password !== undefined) assertPasswordPolicy(connection, body.password);
      const { connection: _c, password, user_id, verify_email: _v, ...profile } = body;
      const outcome = await createUser(req.deps, {
        tenant: req.ctx.tenant,
        connection,
        profile: { ...profile, user_id: user_id ? `auth0|${user_id}` : undefined },
        password,
        arrival: { via: 'management_api' },
      });
      if (outcome.outcome !== 'created') throw userExists();
      return created(userView(outcome.user));
    },
  },
  update: {
    scopes: ['update:users'],
    write: { description: 'Update a User', config: false },
    async run(req: ManagementRequest<Pick<Deps, 'usersListing' | 'config' | 'now' | 'tenantConfigs' | 'users'>>) {
      const existing = await findUser(req);
      const body = parseBody(patchSchema, req.event);
      if (body.connection !== undefined && body.connection !== existing.connection) {
        throw managementErrors.badRequest('invalid_body', 'Payload validation error: \'The user does not belong to this connection\' on property connection.');
      }
      const { connection: _c, password, app_metadata, user_metadata, verify_email: _v, client_id: _ci, ...profile } = body;
      const user: UserRecord = {
        ...existing,
        ...profile,
        email: profile.email?.toLowerCase() ?? existing.email,
        app_metadata: mergeMetadata(existing.app_metadata ?? {}, app_metadata),
        user_metadata: mergeMetadata(existing.user_metadata ?? {}, user_metadata),
        updated_at: nowIso(req.deps),
      };
      if (profile.blocked === false) delete user.blocked;
      const t = req.ctx.tenant;
      const moved: { from?: ItemKey; to: ItemKey }[] = [];
      if (user.email && user.email !== existing.email) {
        moved.push({ from: existing.email ? keys.emailClaim(t, existing.connection_id, existing.email) : undefined, to: keys.emailClaim(t, existing.connection_id, user.email) });
      }
      if (user.username && user.username !== existing.username) {
        moved.push({ from: existing.username ? keys.usernameClaim(t, existing.connection_id, existing.username) : undefined, to: keys.usernameClaim(t, existing.connection_id, user.username) });
      }
      const connection = (await currentConfig(req)).connections.get(existing.connection_id);
      if (password !== undefined && connection) assertPasswordPolicy(connection, password);
      const taken: ItemKey[] = [];
      // A refused request leaves nothing behind: identifiers taken before the failure are given back.
      const giveBack = async () => {
        for (const key of taken) await req.deps.users.releaseIdentifier(key, user.user_id);
      };
      for (const m of moved) {
        if (!(await req.deps.users.claimIdentifier(m.to, user.user_id)).ok) {
          await giveBack();
          throw managementErrors.conflict('auth0_idp_error', 'The specified new email or username already exists.');
        }
        taken.push(m.to);
      }
      const saved = await req.deps.users.putUser(user).catch(async (err: unknown) => {
        await giveBack();
        throw err;
      });
      if (!saved.ok) {
        await giveBack();
        throw userNotFound();
      }
      for (const m of moved) if (m.from) await req.deps.users.retireIdentifier(m.from, user.user_id);
      if (password !== undefined) {
        await req.deps.users.putPassword(t, user.user_id, await hashPassword(password, req.deps.config.bcryptCost), user.updated_at);
      }
      const [shown] = await withStats(req, [user]);
      return ok(userView(shown));
    },
  },
  delete: {
    scopes: ['delete:users'],
    write: { description: 'Delete a User', config: false },
    async run(req: ManagementRequest<Pick<Deps, 'users'>>) {
      await req.deps.users.deleteUser(await findUser(req));
      return noContent();
    },
  },
} satisfies Record<string, ManagementEndpoint>;
