import * as z from 'zod/mini';
import { hashClientSecret } from '../oauth/client-auth.js';
import { PASSWORD_REALM_GRANT } from '../oauth/password-grant.js';
import { newClientRecord, newClientSecret } from '../store/defaults.js';
import { keys } from '../store/keys.js';
import type { ClientRecord } from '../store/records.js';
import type { Deps } from '../deps.js';
import { created, currentConfig, noContent, nowIso, ok, type ManagementEndpoint, type ManagementRequest } from './endpoint.js';
import { managementErrors, writeExisting, writeNew } from './errors.js';
import { listBody, pagingOf, pagingQuery, parseBody, parseQuery, pathParam, selectFields, text } from './request.js';

export const CLIENT_ID = /^[A-Za-z0-9_-]{1,64}$/;
const ONE_YEAR = 31_557_600;

const lifetime = z.number().check(z.int(), z.gte(1), z.lte(10 * ONE_YEAR));
const refreshTokenSchema = z.strictObject({
  rotation_type: z.optional(z.enum(['rotating', 'non-rotating'])),
  expiration_type: z.optional(z.enum(['expiring', 'non-expiring'])),
  leeway: z.optional(z.number().check(z.int(), z.gte(0), z.lte(3600))),
  token_lifetime: z.optional(lifetime),
  idle_token_lifetime: z.optional(lifetime),
  infinite_token_lifetime: z.optional(z.boolean()),
  infinite_idle_token_lifetime: z.optional(z.boolean()),
});

const grantType = z.enum([
  'password',
  PASSWORD_REALM_GRANT,
  'refresh_token',
  'client_credentials',
  'authorization_code',
  'implicit',
]);
const urls = z.array(z.string().check(z.url(), z.maxLength(2048))).check(z.maxLength(100));

const clientFields = {
  description: z.optional(z.string().check(z.maxLength(140))),
  grant_types: z.optional(z.array(grantType).check(z.maxLength(10))),
  token_endpoint_auth_method: z.optional(z.enum(['client_secret_post', 'client_secret_basic', 'none'])),
  refresh_token: z.optional(refreshTokenSchema),
  callbacks: z.optional(urls),
  allowed_logout_urls: z.optional(urls),
  web_origins: z.optional(urls),
};

const createSchema = z.strictObject({
  name: text(128),
  app_type: z.optional(z.enum(['regular_web', 'spa', 'native', 'non_interactive'])),
  /**
   * Importing an application from the upstream tenant: keep its Auth0 `client_id` (and secret)
   * so apps only change the domain. Auth0 itself does not take these on create.
   */
  client_id: z.optional(z.string().check(z.regex(CLIENT_ID, 'Must be 1-64 letters, digits, _ or -'))),
  client_secret: z.optional(z.string().check(z.minLength(16), z.maxLength(512))),
  ...clientFields,
});

const patchSchema = z.strictObject({ name: z.optional(text(128)), ...clientFields });

const listQuery = z.strictObject({
  ...pagingQuery,
  app_type: z.optional(z.string().check(z.maxLength(200))),
});

/** Auth0's client shape without the secret (shown once, at creation) or its hash. */
export function clientView(c: ClientRecord & { description?: string }) {
  const { client_secret_hash: _hash, ...rest } = c;
  return { ...rest, is_first_party: true };
}

async function findClient(req: ManagementRequest<Pick<Deps, 'tenantConfigs'>>): Promise<ClientRecord> {
  const id = pathParam(req.event, 'id', CLIENT_ID);
  const client = (await currentConfig(req)).clients.get(id);
  if (!client) throw managementErrors.notFound('inexistent_client', 'The client does not exist');
  return client;
}

export const clientEndpoints = {
  list: {
    scopes: ['read:clients'],
    async run(req: ManagementRequest<Pick<Deps, 'tenantConfigs'>>) {
      const q = parseQuery(listQuery, req.event);
      const types = q.app_type?.split(',');
      const all = [...(await currentConfig(req)).clients.values()]
        .filter((c) => !types || types.includes(c.app_type))
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((c) => selectFields(clientView(c), q.fields, q.include_fields));
      return ok(listBody('clients', all, pagingOf(q)));
    },
  },
  get: {
    scopes: ['read:clients'],
    async run(req: ManagementRequest<Pick<Deps, 'tenantConfigs'>>) {
      return ok(clientView(await findClient(req)));
    },
  },
  create: {
    scopes: ['create:clients'],
    write: { description: 'Create client', config: true },
    async run(req: ManagementRequest<Pick<Deps, 'tenantConfigs' | 'now'>>) {
      const body = parseBody(createSchema, req.event);
      const appType = body.app_type ?? 'regular_web';
      const isPublic = body.token_endpoint_auth_method === 'none' || (!body.token_endpoint_auth_method && (appType === 'spa' || appType === 'native'));
      if (isPublic && body.client_secret !== undefined) {
        throw managementErrors.badRequest('invalid_body', `Payload validation error: 'A public client has no secret' on property client_secret.`);
      }
      const imported = body.client_secret !== undefined;
      const secret = isPublic ? undefined : (body.client_secret ?? newClientSecret());
      const record = {
        ...newClientRecord({
          client_id: body.client_id,
          name: body.name,
          app_type: appType,
          client_secret_hash: secret ? hashClientSecret(secret) : undefined,
          grant_types: body.grant_types,
          token_endpoint_auth_method: body.token_endpoint_auth_method,
          refresh_token: body.refresh_token,
          callbacks: body.callbacks,
          allowed_logout_urls: body.allowed_logout_urls,
          web_origins: body.web_origins,
          now: nowIso(req.deps),
        }),
        ...(body.description ? { description: body.description } : {}),
      };
      await writeNew(req.deps.tenantConfigs.putClient(req.ctx.tenant, record, { mustNotExist: true }), () =>
        managementErrors.conflict('client_exists', 'A client with this client_id already exists'),
      );
      // The one time a generated secret is shown: only its hash is stored. An imported secret
      // is the caller's own and is not echoed.
      return created({ ...clientView(record), ...(secret && !imported ? { client_secret: secret } : {}) });
    },
  },
  update: {
    scopes: ['update:clients'],
    write: { description: 'Update a client', config: true },
    async run(req: ManagementRequest<Pick<Deps, 'tenantConfigs' | 'now'>>) {
      const existing = await findClient(req);
      const body = parseBody(patchSchema, req.event);
      if (body.token_endpoint_auth_method && body.token_endpoint_auth_method !== 'none' && !existing.client_secret_hash) {
        throw managementErrors.badRequest('invalid_body', `Payload validation error: 'A public client has no secret to authenticate with' on property token_endpoint_auth_method.`);
      }
      const { refresh_token, ...fields } = body;
      const record: ClientRecord = {
        ...existing,
        ...fields,
        refresh_token: { ...existing.refresh_token, ...refresh_token },
        updated_at: nowIso(req.deps),
      };
      await writeExisting(req.deps.tenantConfigs.putClient(req.ctx.tenant, record, { mustExist: true }), () => managementErrors.notFound('inexistent_client', 'The client does not exist'));
      return ok(clientView(record));
    },
  },
  delete: {
    scopes: ['delete:clients'],
    write: { description: 'Delete a client', config: true },
    async run(req: ManagementRequest<Pick<Deps, 'tenantConfigs'>>) {
      const existing = await findClient(req);
      const config = await currentConfig(req);
      await req.deps.tenantConfigs.deleteItem(keys.client(req.ctx.tenant, existing.client_id));
      for (const g of config.clientGrants.filter((g) => g.client_id === existing.client_id)) {
        await req.deps.tenantConfigs.deleteItem(keys.clientGrant(req.ctx.tenant, g.id));
      }
      return noContent();
    },
  },
} satisfies Record<string, ManagementEndpoint>;
