import * as z from 'zod/mini';
import type { Deps } from '../deps.js';
import { randomAlnum } from '../store/defaults.js';
import { keys } from '../store/keys.js';
import type { ResourceServerRecord } from '../store/records.js';
import type { TenantConfig } from '../store/tenant-config-repository.js';
import { created, currentConfig, noContent, ok, type ManagementEndpoint, type ManagementRequest } from './endpoint.js';
import { managementErrors, writeExisting, writeNew } from './errors.js';
import { listBody, pagingOf, pagingQuery, parseBody, parseQuery, pathParam, selectFields, text } from './request.js';

export const RESOURCE_SERVER_ID = /^[A-Za-z0-9]{24}$/;
/** Auth0's bounds on access-token lifetimes (seconds): up to 30 days, for browsers up to 1 day. */
const MAX_LIFETIME = 2_592_000;
const MAX_WEB_LIFETIME = 86_400;

const scopeValue = z.string().check(z.regex(/^[\x21-\x7e]{1,280}$/, 'Expected a scope'));
const scopes = z
  .array(z.strictObject({ value: scopeValue, description: z.optional(z.string().check(z.maxLength(500))) }))
  .check(z.maxLength(1000));
const lifetime = (max: number) => z.number().check(z.int(), z.gte(1), z.lte(max));

const settable = {
  name: text(200),
  scopes: z.optional(scopes),
  signing_alg: z.optional(z.literal('RS256', 'Only RS256 is supported')),
  token_lifetime: z.optional(lifetime(MAX_LIFETIME)),
  token_lifetime_for_web: z.optional(lifetime(MAX_WEB_LIFETIME)),
  allow_offline_access: z.optional(z.boolean()),
  enforce_policies: z.optional(z.boolean()),
  token_dialect: z.optional(z.enum(['access_token', 'access_token_authz'])),
  skip_consent_for_verifiable_first_party_clients: z.optional(z.boolean()),
};
export const resourceServerCreateSchema = z.strictObject({
  identifier: z.string().check(z.minLength(1), z.maxLength(600), z.regex(/^[^\s\u0000-\u001f\u007f]+$/, 'Expected an identifier without spaces')),
  ...settable,
});
const patchSchema = z.strictObject({ ...settable, name: z.optional(settable.name) });
const listQuery = z.strictObject({ ...pagingQuery, identifiers: z.optional(z.string().check(z.maxLength(6000))) });

export type ResourceServerInput = z.infer<typeof resourceServerCreateSchema>;

function assertUniqueScopes(list: { value: string }[] | undefined): void {
  if (!list) return;
  const seen = new Set<string>();
  for (const s of list) {
    if (seen.has(s.value)) throw managementErrors.invalidBody(`'Duplicate scope ${JSON.stringify(s.value)}' on property scopes.`);
    seen.add(s.value);
  }
}

/** The Management API itself is not an API a tenant declares. */
function isReservedIdentifier(identifier: string): boolean {
  return identifier === '/api/v2/' || /\/api\/v2\/?$/.test(identifier);
}

/**
 * Declares an API (Auth0 defaults: offline access off, policies off, plain dialect, RS256).
 * Identifiers are unique per tenant (checked against the stored configuration; two concurrent
 * creates of one identifier are not prevented, as for connection names).
 */
export async function createResourceServer(
  deps: Pick<Deps, 'tenantConfigs' | 'tenantConfigCache'>,
  tenant: string,
  config: TenantConfig,
  input: ResourceServerInput,
): Promise<ResourceServerRecord> {
  assertUniqueScopes(input.scopes);
  if (isReservedIdentifier(input.identifier)) {
    throw managementErrors.invalidBody(`'The Management API cannot be declared as a resource server' on property identifier.`);
  }
  if (config.resourceServers.has(input.identifier)) {
    throw managementErrors.conflict('operation_not_supported', 'A resource server with the same identifier already exists');
  }
  const record: ResourceServerRecord = {
    id: randomAlnum(24),
    identifier: input.identifier,
    name: input.name,
    scopes: input.scopes ?? [],
    signing_alg: 'RS256',
    allow_offline_access: input.allow_offline_access ?? false,
    enforce_policies: input.enforce_policies ?? false,
    token_dialect: input.token_dialect ?? 'access_token',
    skip_consent_for_verifiable_first_party_clients: input.skip_consent_for_verifiable_first_party_clients ?? false,
    ...(input.token_lifetime !== undefined ? { token_lifetime: input.token_lifetime } : {}),
    ...(input.token_lifetime_for_web !== undefined ? { token_lifetime_for_web: input.token_lifetime_for_web } : {}),
  };
  await writeNew(deps.tenantConfigs.putResourceServer(tenant, record, { mustNotExist: true }));
  deps.tenantConfigCache.invalidate(tenant);
  return record;
}

/** An API as Auth0 shows it, with the lifetime defaults filled in. */
function resourceServerView(r: ResourceServerRecord, defaultLifetime: number) {
  const tokenLifetime = r.token_lifetime ?? defaultLifetime;
  return {
    ...r,
    signing_alg: r.signing_alg ?? 'RS256',
    token_lifetime: tokenLifetime,
    token_lifetime_for_web: r.token_lifetime_for_web ?? Math.min(tokenLifetime, 7200),
    allow_offline_access: r.allow_offline_access !== false,
    enforce_policies: r.enforce_policies ?? false,
    token_dialect: r.token_dialect ?? 'access_token',
  };
}

async function findResourceServer(req: ManagementRequest<Pick<Deps, 'tenantConfigs'>>): Promise<{ api: ResourceServerRecord; config: TenantConfig }> {
  const id = pathParam(req.event, 'id', RESOURCE_SERVER_ID);
  const config = await currentConfig(req);
  const api = [...config.resourceServers.values()].find((r) => r.id === id);
  if (!api) throw managementErrors.notFound('inexistent_resource_server', 'The resource server does not exist');
  return { api, config };
}

export const resourceServerEndpoints = {
  list: {
    scopes: ['read:resource_servers'],
    async run(req: ManagementRequest<Pick<Deps, 'tenantConfigs'>>) {
      const q = parseQuery(listQuery, req.event);
      const wanted = q.identifiers ? new Set(q.identifiers.split(',')) : undefined;
      const all = [...(await currentConfig(req)).resourceServers.values()]
        .filter((r) => !wanted || wanted.has(r.identifier))
        .sort((a, b) => a.identifier.localeCompare(b.identifier))
        .map((r) => selectFields(resourceServerView(r, req.ctx.config.settings.access_token_lifetime), q.fields, q.include_fields));
      return ok(listBody('resource_servers', all, pagingOf(q)));
    },
  },
  get: {
    scopes: ['read:resource_servers'],
    async run(req: ManagementRequest<Pick<Deps, 'tenantConfigs'>>) {
      const { api } = await findResourceServer(req);
      return ok(resourceServerView(api, req.ctx.config.settings.access_token_lifetime));
    },
  },
  create: {
    scopes: ['create:resource_servers'],
    write: { description: 'Create resource server', config: true },
    async run(req: ManagementRequest<Pick<Deps, 'tenantConfigs' | 'tenantConfigCache'>>) {
      const body = parseBody(resourceServerCreateSchema, req.event);
      const api = await createResourceServer(req.deps, req.ctx.tenant, await currentConfig(req), body);
      return created(resourceServerView(api, req.ctx.config.settings.access_token_lifetime));
    },
  },
  update: {
    scopes: ['update:resource_servers'],
    write: { description: 'Update resource server', config: true },
    async run(req: ManagementRequest<Pick<Deps, 'tenantConfigs'>>) {
      const { api } = await findResourceServer(req);
      const body = parseBody(patchSchema, req.event);
      assertUniqueScopes(body.scopes);
      const record: ResourceServerRecord = { ...api, ...body };
      await writeExisting(req.deps.tenantConfigs.putResourceServer(req.ctx.tenant, record, { mustExist: true }), () => managementErrors.notFound('inexistent_resource_server', 'The resource server does not exist'));
      return ok(resourceServerView(record, req.ctx.config.settings.access_token_lifetime));
    },
  },
  delete: {
    scopes: ['delete:resource_servers'],
    write: { description: 'Delete resource server', config: true },
    async run(req: ManagementRequest<Pick<Deps, 'tenantConfigs'>>) {
      const { api, config } = await findResourceServer(req);
      // The API goes first: its grants then name an unknown audience, which no grant serves.
      await req.deps.tenantConfigs.deleteItem(keys.resourceServer(req.ctx.tenant, api.id));
      for (const grant of config.clientGrants.filter((g) => g.audience === api.identifier)) {
        await req.deps.tenantConfigs.deleteItem(keys.clientGrant(req.ctx.tenant, grant.id));
      }
      return noContent();
    },
  },
} satisfies Record<string, ManagementEndpoint>;
