import * as z from 'zod/mini';
import type { Deps } from '../deps.js';
import { secretNames } from '../secrets/secret-store.js';
import { keys } from '../store/keys.js';
import { newConnectionId } from '../store/defaults.js';
import type { ConnectionOptions, ConnectionRecord, ConnectionUpstreamConfiguration } from '../store/records.js';
import { connectionByName } from '../store/tenant-config-repository.js';
import {
  assertOutboundUrl,
  created,
  currentConfig,
  noContent,
  nowIso,
  ok,
  secretHint,
  type ManagementEndpoint,
  type ManagementRequest,
} from './endpoint.js';
import { managementErrors, writeExisting, writeNew } from './errors.js';
import { rateLimitSchema } from './migration-sources.js';
import { isSocialStrategy, SOCIAL_STRATEGIES } from '../social/social-strategies.js';
import { socialOptionsSchema, storedSocialOptions } from '../social/social-connection-options.js';
import { listBody, pagingOf, pagingQuery, parseBody, parseQuery, pathParam, selectFields, stringMetadata, text } from './request.js';

export const CONNECTION_ID = /^con_[A-Za-z0-9]{16}$/;
const CONNECTION_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,126}[A-Za-z0-9])?$/;
const CLIENT_ID = /^[A-Za-z0-9_-]{1,64}$/;

const configurationSchema = z.strictObject({
  token_endpoint: z.string().check(z.maxLength(2048)),
  userinfo_endpoint: z.string().check(z.maxLength(2048)),
  client_id: z.string().check(z.regex(CLIENT_ID, 'Expected a client id')),
  client_secret: z.optional(z.string().check(z.minLength(8), z.maxLength(512))),
  profile_from: z.optional(z.enum(['userinfo', 'id_token'])),
  management_api: z.optional(
    z.strictObject({
      domain: z.string().check(z.maxLength(255), z.regex(/^[A-Za-z0-9.-]+(:\d{1,5})?$/, 'Expected an Auth0 domain')),
      client_id: z.string().check(z.regex(CLIENT_ID, 'Expected a client id')),
      client_secret: z.optional(z.string().check(z.minLength(8), z.maxLength(512))),
      /** The upstream Management API's own budget (Auth0 limits it apart from the Authentication API); default 12 per second. */
      rate_limit: z.optional(rateLimitSchema),
    }),
  ),
  rate_limit: z.optional(rateLimitSchema),
});

const optionsSchema = z.strictObject({
  import_mode: z.optional(z.boolean()),
  /** Left out: the stored configuration (and its secret) is kept; `null` removes both. */
  configuration: z.optional(z.nullable(configurationSchema)),
  disable_signup: z.optional(z.boolean()),
  brute_force_protection: z.optional(z.boolean()),
  requires_username: z.optional(z.boolean()),
  passwordPolicy: z.optional(z.nullable(z.enum(['none', 'low', 'fair', 'good', 'excellent']))),
  /** Auth0's shape: common passwords refused, plus up to 200 words of the connection's own (each at most 50 characters). */
  password_dictionary: z.optional(
    z.strictObject({
      enable: z.boolean(),
      dictionary: z.optional(z.array(z.string().check(z.minLength(1), z.maxLength(50))).check(z.maxLength(200))),
    }),
  ),
});

const clientIds = z.array(z.string().check(z.regex(CLIENT_ID, 'Expected a client id'))).check(z.maxLength(100));

const createSchema = z.strictObject({
  name: z.string().check(z.regex(CONNECTION_NAME, 'Expected letters, digits and dashes (at most 128)')),
  display_name: z.optional(text(128)),
  strategy: z.literal('auth0'),
  options: z.optional(optionsSchema),
  enabled_clients: z.optional(clientIds),
  realms: z.optional(z.array(z.string().check(z.regex(CONNECTION_NAME))).check(z.maxLength(10))),
  is_domain_connection: z.optional(z.boolean()),
  metadata: z.optional(stringMetadata),
});

const patchSchema = z.omit(createSchema, { name: true, strategy: true });

/** Social and enterprise connections: the same fields, the provider's options. */
const socialCreateSchema = z.extend(createSchema, { strategy: z.enum(SOCIAL_STRATEGIES), options: socialOptionsSchema });
const socialPatchSchema = z.extend(patchSchema, { options: z.optional(socialOptionsSchema) });
const strategyOfBody = (req: ManagementRequest) => (req.event.body as { strategy?: unknown } | undefined)?.strategy;

const listQuery = z.strictObject({
  ...pagingQuery,
  name: z.optional(z.string().check(z.maxLength(128))),
  strategy: z.optional(z.string().check(z.maxLength(256))),
});

type OptionsInput = z.infer<typeof optionsSchema>;

/** The Auth0 shape of a connection: no secret, no secret reference. */
export function connectionView(c: ConnectionRecord) {
  const { client_secret_ref: _ref, management_api, ...configuration } = c.options.configuration ?? ({} as ConnectionUpstreamConfiguration);
  if (management_api) {
    const { client_secret_ref: _managementRef, ...shown } = management_api;
    Object.assign(configuration, { management_api: shown });
  }
  const { client_secret_ref: _socialRef, ...options } = c.options;
  return {
    id: c.id,
    name: c.name,
    display_name: c.display_name,
    strategy: c.strategy,
    options: { ...options, ...(c.options.configuration ? { configuration } : {}) },
    enabled_clients: c.enabled_clients,
    realms: c.realms,
    is_domain_connection: c.is_domain_connection ?? false,
    metadata: c.metadata,
  };
}

async function findConnection(req: ManagementRequest<Pick<Deps, 'tenantConfigs'>>): Promise<ConnectionRecord> {
  const id = pathParam(req.event, 'id', CONNECTION_ID);
  const connection = (await currentConfig(req)).connections.get(id);
  if (!connection) throw managementErrors.notFound('inexistent_connection', 'The connection does not exist');
  return connection;
}

const hostOf = (url: string) => new URL(url).host;

/**
 * Turns the options of a request into stored options: endpoints checked, the client secret
 * written to the secret store (before the item that will point at it), and kept from the
 * previous configuration only when it still talks to the same client at the same hosts.
 * Options without `configuration` keep the previous one, as Auth0 keeps a connection's settings
 * when a toggle such as `import_mode` changes; `configuration: null` removes it.
 */
async function storedOptions(
  req: ManagementRequest<Pick<Deps, 'config' | 'secrets'>>,
  connectionId: string,
  input: OptionsInput,
  previous?: ConnectionUpstreamConfiguration,
): Promise<ConnectionOptions> {
  const { configuration, passwordPolicy, ...rest } = input;
  const options: ConnectionOptions = { ...rest, ...(passwordPolicy ? { passwordPolicy } : {}) };
  if (configuration === undefined && previous) options.configuration = previous;
  if (!configuration) return options;
  assertOutboundUrl(req.deps, configuration.token_endpoint, 'options.configuration.token_endpoint');
  assertOutboundUrl(req.deps, configuration.userinfo_endpoint, 'options.configuration.userinfo_endpoint');
  const { client_secret, management_api, ...upstreamFields } = configuration;
  const managementApi = await storedManagementApi(req, connectionId, management_api, previous?.management_api);
  const upstream = { ...upstreamFields, ...(managementApi ? { management_api: managementApi } : {}) };
  const secretName = secretNames.connectionClientSecret(req.ctx.tenant, connectionId);
  if (client_secret !== undefined) {
    await req.deps.secrets.put(secretName, client_secret);
    options.configuration = { ...upstream, client_secret_ref: secretName, client_secret_hint: secretHint(client_secret) };
    return options;
  }
  const sameUpstream =
    previous?.client_secret_ref &&
    previous.client_id === upstream.client_id &&
    hostOf(previous.token_endpoint) === hostOf(upstream.token_endpoint) &&
    hostOf(previous.userinfo_endpoint) === hostOf(upstream.userinfo_endpoint);
  if (!sameUpstream) {
    throw managementErrors.invalidBody(
      `'client_secret is required when the client_id or the endpoints' host change' on property options.configuration.client_secret.`,
    );
  }
  options.configuration = { ...upstream, client_secret_ref: previous.client_secret_ref, client_secret_hint: previous.client_secret_hint };
  return options;
}

/**
 * Upstream Management API credentials (the whole user on migration): the secret goes to the
 * secret store like the connection's own; it is kept on a PATCH only for the same client and domain.
 */
async function storedManagementApi(
  req: ManagementRequest<Pick<Deps, 'secrets'>>,
  connectionId: string,
  input: { domain: string; client_id: string; client_secret?: string; rate_limit?: { requests_per_second: number } } | undefined,
  previous: ConnectionUpstreamConfiguration['management_api'],
): Promise<ConnectionUpstreamConfiguration['management_api']> {
  if (!input) return undefined;
  const { client_secret, ...rest } = input;
  if (client_secret !== undefined) {
    const ref = secretNames.connectionManagementSecret(req.ctx.tenant, connectionId);
    await req.deps.secrets.put(ref, client_secret);
    return { ...rest, client_secret_ref: ref, client_secret_hint: secretHint(client_secret) };
  }
  if (previous && previous.client_id === rest.client_id && previous.domain === rest.domain) {
    return { ...rest, client_secret_ref: previous.client_secret_ref, client_secret_hint: previous.client_secret_hint };
  }
  throw managementErrors.invalidBody(
    `'client_secret is required when the client_id or the domain change' on property options.configuration.management_api.client_secret.`,
  );
}

function assertKnownClients(clients: Map<string, unknown>, ids: string[] | undefined): void {
  const unknown = ids?.find((id) => !clients.has(id));
  if (unknown) throw managementErrors.invalidBody(`'Unknown client' on property enabled_clients.`);
}

export const connectionEndpoints = {
  list: {
    scopes: ['read:connections'],
    async run(req: ManagementRequest<Pick<Deps, 'tenantConfigs'>>) {
      const q = parseQuery(listQuery, req.event);
      const strategies = q.strategy?.split(',').filter(Boolean);
      const all = [...(await currentConfig(req)).connections.values()]
        .filter((c) => (q.name === undefined || c.name === q.name) && (!strategies || strategies.includes(c.strategy)))
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((c) => selectFields(connectionView(c), q.fields, q.include_fields));
      return ok(listBody('connections', all, pagingOf(q)));
    },
  },
  get: {
    scopes: ['read:connections'],
    async run(req: ManagementRequest<Pick<Deps, 'tenantConfigs'>>) {
      return ok(connectionView(await findConnection(req)));
    },
  },
  create: {
    scopes: ['create:connections'],
    write: { description: 'Create a connection', config: true },
    async run(req: ManagementRequest<Pick<Deps, 'config' | 'now' | 'secrets' | 'tenantConfigs'>>) {
      const body = isSocialStrategy(strategyOfBody(req)) ? parseBody(socialCreateSchema, req.event) : parseBody(createSchema, req.event);
      const config = await currentConfig(req);
      if (connectionByName(config, body.name)) {
        throw managementErrors.conflict('connection_conflict', 'A connection with the same name already exists');
      }
      assertKnownClients(config.clients, body.enabled_clients);
      const id = newConnectionId();
      const options =
        body.strategy === 'auth0'
          ? await storedOptions(req, id, body.options ?? {})
          : await storedSocialOptions(req, body.strategy, id, body.options);
      const at = nowIso(req.deps);
      const record: ConnectionRecord = {
        id,
        name: body.name,
        display_name: body.display_name ?? body.name,
        strategy: body.strategy,
        options: body.strategy === 'auth0' ? { brute_force_protection: true, ...options } : options,
        enabled_clients: body.enabled_clients ?? [],
        realms: body.realms ?? [body.name],
        is_domain_connection: body.is_domain_connection,
        metadata: body.metadata,
        created_at: at,
        updated_at: at,
      };
      await writeNew(req.deps.tenantConfigs.putConnection(req.ctx.tenant, record, { mustNotExist: true }));
      return created(connectionView(record));
    },
  },
  update: {
    scopes: ['update:connections'],
    write: { description: 'Update a connection', config: true },
    async run(req: ManagementRequest<Pick<Deps, 'config' | 'now' | 'secrets' | 'tenantConfigs'>>) {
      const existing = await findConnection(req);
      const social = isSocialStrategy(existing.strategy) ? existing.strategy : undefined;
      const body = social ? parseBody(socialPatchSchema, req.event) : parseBody(patchSchema, req.event);
      const config = await currentConfig(req);
      assertKnownClients(config.clients, body.enabled_clients);
      const { options: optionsInput, ...fields } = body;
      // Auth0: a PATCH with `options` replaces the whole options object.
      const options = !optionsInput
        ? existing.options
        : social
          ? await storedSocialOptions(req, social, existing.id, optionsInput as z.infer<typeof socialOptionsSchema>, existing.options)
          : await storedOptions(req, existing.id, optionsInput as OptionsInput, existing.options.configuration);
      const record: ConnectionRecord = { ...existing, ...fields, options, updated_at: nowIso(req.deps) };
      await writeExisting(req.deps.tenantConfigs.putConnection(req.ctx.tenant, record, { mustExist: true }), () => managementErrors.notFound('inexistent_connection', 'The connection does not exist'));
      const oldRef = existing.options.configuration?.client_secret_ref;
      if (oldRef && !options.configuration?.client_secret_ref) await req.deps.secrets.delete(oldRef);
      const oldManagementRef = existing.options.configuration?.management_api?.client_secret_ref;
      if (oldManagementRef && !options.configuration?.management_api?.client_secret_ref) await req.deps.secrets.delete(oldManagementRef);
      return ok(connectionView(record));
    },
  },
  delete: {
    scopes: ['delete:connections'],
    write: { description: 'Delete a connection', config: true },
    async run(req: ManagementRequest<Pick<Deps, 'secrets' | 'tenantConfigs'>>) {
      const existing = await findConnection(req);
      const source = (await currentConfig(req)).migrationSources.find((s) => s.connection === existing.name);
      if (source) {
        throw managementErrors.conflict('connection_in_use', `The connection is used by the migration source ${source.id}`);
      }
      await req.deps.tenantConfigs.deleteItem(keys.connection(req.ctx.tenant, existing.id));
      const ref = existing.options.configuration?.client_secret_ref ?? existing.options.client_secret_ref;
      if (typeof ref === 'string') await req.deps.secrets.delete(ref);
      const managementRef = existing.options.configuration?.management_api?.client_secret_ref;
      if (managementRef) await req.deps.secrets.delete(managementRef);
      return noContent();
    },
  },
} satisfies Record<string, ManagementEndpoint>;
