import * as z from 'zod/mini';
import { secretNames } from '../secrets/secret-store.js';
import { randomAlnum } from '../store/defaults.js';
import { keys } from '../store/keys.js';
import type { MigrationSourceRecord } from '../store/records.js';
import { connectionByName } from '../store/tenant-config-repository.js';
import type { Deps } from '../deps.js';
import { assertOutboundUrl, created, currentConfig, noContent, nowIso, ok, secretHint, type ManagementEndpoint, type ManagementRequest } from './endpoint.js';
import { managementErrors, writeExisting, writeNew } from './errors.js';
import { listBody, pagingOf, pagingQuery, parseBody, parseQuery, pathParam, selectFields, text } from './request.js';

export const MIGRATION_SOURCE_ID = /^msrc_[A-Za-z0-9]{16}$/;
const newMigrationSourceId = () => `msrc_${randomAlnum(16)}`;

/** A host name (labels of letters, digits and dashes), optionally with a port: no scheme, no path. */
const HOST_WITH_PORT =
  /^(?=[^:]{1,253}(?::|$))[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(?::(?:[1-9]\d{0,3}|[1-5]\d{4}|6[0-4]\d{3}|65[0-4]\d{2}|655[0-2]\d|6553[0-5]))?$/;

/**
 * The fleet-wide budget of calls to an upstream (`rate_limit` of a source and of a connection's
 * `options.configuration`): more than none, at most 1000 per second (Auth0's largest limits are
 * far below), nothing else.
 */
export const rateLimitSchema = z.strictObject({
  requests_per_second: z.number().check(z.positive('Expected a number of requests per second above 0'), z.lte(1000, 'Expected at most 1000 requests per second')),
});

/** `tenant.eu.auth0.com`, with an optional port, and optionally an explicit `https://` (or `http://` for a local loopback upstream). */
const credentialsSchema = z.strictObject({
  domain: z.pipe(
    z.pipe(
      z.string().check(z.maxLength(268)),
      z.transform((d: string) => d.trim().toLowerCase().replace(/\/$/, '')),
    ),
    z.string().check(z.refine((d) => HOST_WITH_PORT.test(d.replace(/^https?:\/\//, '')), 'Expected a host name with an optional port')),
  ),
  client_id: z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}$/, 'Expected a client id')),
  client_secret: z.optional(z.string().check(z.minLength(8), z.maxLength(512))),
});

const createSchema = z.strictObject({
  name: text(128),
  provider: z.literal('auth0'),
  connection: z.string().check(z.minLength(1), z.maxLength(128)),
  enabled: z.optional(z.boolean()),
  credentials: credentialsSchema,
  /** Local clients mapped to the upstream application, besides the one with its client_id. */
  client_ids: z.optional(z.array(z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}$/, 'Expected a client id'))).check(z.maxLength(50))),
  profile_from: z.optional(z.enum(['userinfo', 'id_token'])),
  rate_limit: z.optional(rateLimitSchema),
});

const patchSchema = z.partial(z.omit(createSchema, { provider: true }));

const listQuery = z.strictObject({ ...pagingQuery });

/** What the API shows of a migration source: never the secret or its reference. */
export function migrationSourceView(s: MigrationSourceRecord) {
  const { client_secret_ref: _ref, ...credentials } = s.credentials;
  return {
    id: s.id,
    name: s.name,
    provider: s.provider,
    connection: s.connection,
    enabled: s.enabled,
    credentials,
    client_ids: s.client_ids ?? [],
    profile_from: s.profile_from,
    rate_limit: s.rate_limit,
    created_at: s.created_at,
    updated_at: s.updated_at,
  };
}

async function findSource(req: ManagementRequest<Pick<Deps, 'tenantConfigs'>>): Promise<MigrationSourceRecord> {
  const id = pathParam(req.event, 'id', MIGRATION_SOURCE_ID);
  const source = (await currentConfig(req)).migrationSources.find((s) => s.id === id);
  if (!source) throw managementErrors.notFound('inexistent_migration_source', 'The migration source does not exist');
  return source;
}

async function assertConnection(req: ManagementRequest<Pick<Deps, 'tenantConfigs'>>, name: string): Promise<void> {
  if (!connectionByName(await currentConfig(req), name)) {
    throw managementErrors.invalidBody(`'No connection of this tenant has this name' on property connection.`);
  }
}

async function assertClients(req: ManagementRequest<Pick<Deps, 'tenantConfigs'>>, clientIds: string[] | undefined): Promise<void> {
  const clients = (await currentConfig(req)).clients;
  const unknown = (clientIds ?? []).findIndex((id) => !clients.has(id));
  if (unknown >= 0) throw managementErrors.invalidBody(`'No client of this tenant has this id' on property client_ids.${unknown}.`);
}

type CredentialsInput = z.infer<typeof credentialsSchema>;

/**
 * Stored credentials: a new secret is written to the secret store first; without one, the old
 * secret is kept only for the same upstream client on the same domain.
 */
async function storedCredentials(
  req: ManagementRequest<Pick<Deps, 'config' | 'secrets'>>,
  sourceId: string,
  input: CredentialsInput,
  previous?: MigrationSourceRecord['credentials'],
): Promise<MigrationSourceRecord['credentials']> {
  const { client_secret, ...rest } = input;
  // A domain given with its scheme is called with it: `http://` only for a loopback upstream when running locally.
  assertOutboundUrl(req.deps, /^https?:\/\//.test(rest.domain) ? `${rest.domain}/` : `https://${rest.domain}/`, 'credentials.domain');
  const name = secretNames.migrationSourceClientSecret(req.ctx.tenant, sourceId);
  if (client_secret !== undefined) {
    await req.deps.secrets.put(name, client_secret);
    return { ...rest, client_secret_ref: name, client_secret_hint: secretHint(client_secret) };
  }
  if (!previous || previous.domain !== rest.domain || previous.client_id !== rest.client_id) {
    throw managementErrors.invalidBody(`'Missing required property: client_secret' on property credentials.client_secret.`);
  }
  return { ...rest, client_secret_ref: previous.client_secret_ref, client_secret_hint: previous.client_secret_hint };
}

export const migrationSourceEndpoints = {
  list: {
    scopes: ['read:migration_sources'],
    async run(req: ManagementRequest<Pick<Deps, 'tenantConfigs'>>) {
      const q = parseQuery(listQuery, req.event);
      const all = (await currentConfig(req)).migrationSources
        .sort((a, b) => a.created_at.localeCompare(b.created_at))
        .map((s) => selectFields(migrationSourceView(s), q.fields, q.include_fields));
      return ok(listBody('migration_sources', all, pagingOf(q)));
    },
  },
  get: {
    scopes: ['read:migration_sources'],
    async run(req: ManagementRequest<Pick<Deps, 'tenantConfigs'>>) {
      return ok(migrationSourceView(await findSource(req)));
    },
  },
  create: {
    scopes: ['create:migration_sources'],
    write: { description: 'Create a migration source', config: true },
    async run(req: ManagementRequest<Pick<Deps, 'config' | 'now' | 'secrets' | 'tenantConfigs'>>) {
      const body = parseBody(createSchema, req.event);
      await assertConnection(req, body.connection);
      await assertClients(req, body.client_ids);
      const id = newMigrationSourceId();
      const credentials = await storedCredentials(req, id, body.credentials);
      const at = nowIso(req.deps);
      const record: MigrationSourceRecord = {
        id,
        name: body.name,
        provider: 'auth0',
        connection: body.connection,
        enabled: body.enabled ?? true,
        credentials,
        ...(body.client_ids ? { client_ids: [...new Set(body.client_ids)] } : {}),
        profile_from: body.profile_from,
        ...(body.rate_limit ? { rate_limit: body.rate_limit } : {}),
        created_at: at,
        updated_at: at,
      };
      await writeNew(req.deps.tenantConfigs.putMigrationSource(req.ctx.tenant, record, { mustNotExist: true }));
      return created(migrationSourceView(record));
    },
  },
  update: {
    scopes: ['update:migration_sources'],
    write: { description: 'Update a migration source', config: true },
    async run(req: ManagementRequest<Pick<Deps, 'config' | 'now' | 'secrets' | 'tenantConfigs'>>) {
      const existing = await findSource(req);
      const body = parseBody(patchSchema, req.event);
      if (body.connection !== undefined) await assertConnection(req, body.connection);
      await assertClients(req, body.client_ids);
      const { credentials: credentialsInput, ...fields } = body;
      const credentials = credentialsInput
        ? await storedCredentials(req, existing.id, credentialsInput, existing.credentials)
        : existing.credentials;
      const record: MigrationSourceRecord = { ...existing, ...fields, credentials, updated_at: nowIso(req.deps) };
      await writeExisting(req.deps.tenantConfigs.putMigrationSource(req.ctx.tenant, record, { mustExist: true }), () => managementErrors.notFound('inexistent_migration_source', 'The migration source does not exist'));
      return ok(migrationSourceView(record));
    },
  },
  delete: {
    scopes: ['delete:migration_sources'],
    write: { description: 'Delete a migration source', config: true },
    async run(req: ManagementRequest<Pick<Deps, 'secrets' | 'tenantConfigs'>>) {
      const existing = await findSource(req);
      await req.deps.tenantConfigs.deleteItem(keys.migrationSource(req.ctx.tenant, existing.id));
      await req.deps.secrets.delete(existing.credentials.client_secret_ref);
      return noContent();
    },
  },
} satisfies Record<string, ManagementEndpoint>;
