import * as z from 'zod/mini';
import { managementAudience } from '../oauth/client-credentials-grant.js';
import { randomAlnum } from '../store/defaults.js';
import { keys } from '../store/keys.js';
import type { ClientGrantRecord } from '../store/records.js';
import type { TenantConfig } from '../store/tenant-config-repository.js';
import type { Deps } from '../deps.js';
import { managementScopes } from './auth.js';
import { CLIENT_ID } from './clients.js';
import { created, currentConfig, noContent, ok, type ManagementEndpoint, type ManagementRequest } from './endpoint.js';
import { managementErrors, writeExisting, writeNew } from './errors.js';
import { listBody, pagingOf, pagingQuery, parseBody, parseQuery, pathParam } from './request.js';

export const CLIENT_GRANT_ID = /^cgr_[A-Za-z0-9]{16}$/;
const scopeList = z.array(z.string().check(z.regex(/^[\x21-\x7e]{1,280}$/, 'Expected a scope'))).check(z.maxLength(200));

const createSchema = z.strictObject({
  client_id: z.string().check(z.regex(CLIENT_ID, 'Expected a client id')),
  audience: z.string().check(z.minLength(1), z.maxLength(600)),
  scope: scopeList,
});
const patchSchema = z.strictObject({ scope: scopeList });
const listQuery = z.strictObject({
  ...pagingQuery,
  client_id: z.optional(z.string().check(z.maxLength(64))),
  audience: z.optional(z.string().check(z.maxLength(600))),
});

/** The Management API on this issuer, or on any domain of the service (`/api/v2/`). */
function isManagementAudience(req: ManagementRequest, audience: string): boolean {
  return audience === '/api/v2/' || audience === managementAudience(req.ctx.issuer);
}

/** The scopes an audience defines: the Management API's, or those of the tenant's API. */
function assertScopesExist(req: ManagementRequest, config: TenantConfig, audience: string, scope: string[]): void {
  const known = isManagementAudience(req, audience)
    ? new Set<string>(managementScopes)
    : new Set(config.resourceServers.get(audience)?.scopes.map((s) => s.value));
  const unknown = scope.find((s) => !known.has(s));
  if (unknown !== undefined) throw managementErrors.invalidBody(`'Unknown scope for this audience' on property scope.`);
}

async function findGrant(req: ManagementRequest<Pick<Deps, 'tenantConfigs'>>): Promise<{ grant: ClientGrantRecord; config: TenantConfig }> {
  const id = pathParam(req.event, 'id', CLIENT_GRANT_ID);
  const config = await currentConfig(req);
  const grant = config.clientGrants.find((g) => g.id === id);
  if (!grant) throw managementErrors.notFound('inexistent_client_grant', 'The client grant does not exist');
  return { grant, config };
}

export const clientGrantEndpoints = {
  list: {
    scopes: ['read:client_grants'],
    async run(req: ManagementRequest<Pick<Deps, 'tenantConfigs'>>) {
      const q = parseQuery(listQuery, req.event);
      const all = (await currentConfig(req)).clientGrants
        .filter((g) => (!q.client_id || g.client_id === q.client_id) && (!q.audience || g.audience === q.audience))
        .sort((a, b) => a.id.localeCompare(b.id));
      return ok(listBody('client_grants', all, pagingOf(q)));
    },
  },
  create: {
    scopes: ['create:client_grants'],
    write: { description: 'Create client grant', config: true },
    async run(req: ManagementRequest<Pick<Deps, 'tenantConfigs'>>) {
      const body = parseBody(createSchema, req.event);
      const config = await currentConfig(req);
      if (!config.clients.has(body.client_id)) throw managementErrors.notFound('inexistent_client', 'The client does not exist');
      if (!isManagementAudience(req, body.audience) && !config.resourceServers.has(body.audience)) {
        throw managementErrors.notFound('inexistent_resource_server', 'No resource server with this identifier exists');
      }
      if (config.clientGrants.some((g) => g.client_id === body.client_id && g.audience === body.audience)) {
        throw managementErrors.conflict('conflict', 'A client grant for this client and audience already exists');
      }
      assertScopesExist(req, config, body.audience, body.scope);
      const grant: ClientGrantRecord = { id: `cgr_${randomAlnum(16)}`, ...body, scope: [...new Set(body.scope)] };
      await writeNew(req.deps.tenantConfigs.putClientGrant(req.ctx.tenant, grant, { mustNotExist: true }));
      return created(grant);
    },
  },
  update: {
    scopes: ['update:client_grants'],
    write: { description: 'Update client grant', config: true },
    async run(req: ManagementRequest<Pick<Deps, 'tenantConfigs'>>) {
      const { grant, config } = await findGrant(req);
      const body = parseBody(patchSchema, req.event);
      assertScopesExist(req, config, grant.audience, body.scope);
      const record: ClientGrantRecord = { ...grant, scope: [...new Set(body.scope)] };
      await writeExisting(req.deps.tenantConfigs.putClientGrant(req.ctx.tenant, record, { mustExist: true }), () => managementErrors.notFound('inexistent_client_grant', 'The client grant does not exist'));
      return ok(record);
    },
  },
  delete: {
    scopes: ['delete:client_grants'],
    write: { description: 'Delete client grant', config: true },
    async run(req: ManagementRequest<Pick<Deps, 'tenantConfigs'>>) {
      const { grant } = await findGrant(req);
      await req.deps.tenantConfigs.deleteItem(keys.clientGrant(req.ctx.tenant, grant.id));
      return noContent();
    },
  },
} satisfies Record<string, ManagementEndpoint>;
