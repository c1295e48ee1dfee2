import type { ManagementClient } from './management-client.js';
import type { ExportedClient, ExportedConnection, ExportedResourceServer, TenantExport } from './tenant-export.js';

/** What the target service has now (read through its Management API). */
export interface TargetState {
  clients: { client_id: string; name: string }[];
  resourceServers: { identifier: string; scopes: { value: string }[] }[];
  roles: { id: string; name: string; permissions: { resource_server_identifier: string; permission_name: string }[] }[];
  clientGrants: { client_id: string; audience: string }[];
  connections: { id: string; name: string; enabled_clients: string[]; options?: { passwordPolicy?: string } }[];
}

/** A client as the source names it (its id, or in Deploy CLI exports its name). */
type ClientRef = string;

export type Step =
  | { kind: 'create_resource_server'; label: string; body: Record<string, unknown> }
  | { kind: 'create_client'; label: string; ref: { client_id?: string; name: string }; body: Record<string, unknown> }
  | { kind: 'create_connection'; label: string; body: Record<string, unknown>; clients: ClientRef[] }
  | { kind: 'enable_clients'; label: string; connectionId: string; current: string[]; clients: ClientRef[] }
  | { kind: 'create_client_grant'; label: string; client: ClientRef; audience: string; scope: string[] }
  | { kind: 'create_role'; label: string; name: string; description?: string }
  | { kind: 'add_role_permissions'; label: string; roleName: string; permissions: { resource_server_identifier: string; permission_name: string }[] };

export interface Skip {
  item: string;
  reason: string;
}

export interface ImportPlan {
  steps: Step[];
  skipped: Skip[];
  /** Notes on items imported with changes (settings dropped, a new secret generated). */
  notes: string[];
}

export async function readTargetState(api: ManagementClient): Promise<TargetState> {
  const [clients, resourceServers, roles, clientGrants, connections] = await Promise.all([
    api.getAll<TargetState['clients'][number]>('clients', 'clients'),
    api.getAll<TargetState['resourceServers'][number]>('resource-servers', 'resource_servers'),
    api.getAll<{ id: string; name: string }>('roles', 'roles'),
    api.getAll<TargetState['clientGrants'][number]>('client-grants', 'client_grants'),
    api.getAll<TargetState['connections'][number]>('connections', 'connections'),
  ]);
  const withPermissions = await Promise.all(
    roles.map(async (r) => ({ ...r, permissions: await api.getAll<TargetState['roles'][number]['permissions'][number]>(`roles/${r.id}/permissions`, 'permissions') })),
  );
  return { clients, resourceServers, roles: withPermissions, clientGrants, connections };
}

const APP_TYPES = new Set(['regular_web', 'spa', 'native', 'non_interactive']);
const GRANTS = new Set(['password', 'http://auth0.com/oauth/grant-type/password-realm', 'refresh_token', 'client_credentials', 'authorization_code', 'implicit']);
const AUTH_METHODS = new Set(['client_secret_post', 'client_secret_basic', 'none']);
const REFRESH_FIELDS = ['rotation_type', 'expiration_type', 'leeway', 'token_lifetime', 'idle_token_lifetime', 'infinite_token_lifetime', 'infinite_idle_token_lifetime'];
const CONNECTION_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,126}[A-Za-z0-9])?$/;
const POLICIES = new Set(['none', 'low', 'fair', 'good', 'excellent']);

const isUrl = (u: unknown) => {
  try {
    return typeof u === 'string' && !!new URL(u);
  } catch {
    return false;
  }
};

function clientBody(c: ExportedClient, notes: string[]): Record<string, unknown> {
  const label = `client "${c.name}"`;
  const body: Record<string, unknown> = { name: c.name.slice(0, 128) };
  if (c.client_id) body.client_id = c.client_id;
  if (c.client_secret && c.client_secret.length >= 16) body.client_secret = c.client_secret;
  if (c.description) body.description = String(c.description).slice(0, 140);
  if (c.app_type && APP_TYPES.has(c.app_type)) body.app_type = c.app_type;
  else if (c.app_type) notes.push(`${label}: app_type "${c.app_type}" is not supported here; created as regular_web`);
  if (c.grant_types) {
    const kept = c.grant_types.filter((g) => GRANTS.has(g));
    const dropped = c.grant_types.filter((g) => !GRANTS.has(g));
    body.grant_types = kept;
    if (dropped.length) notes.push(`${label}: grant types not supported here were left out: ${dropped.join(', ')}`);
  }
  if (c.token_endpoint_auth_method && AUTH_METHODS.has(c.token_endpoint_auth_method)) body.token_endpoint_auth_method = c.token_endpoint_auth_method;
  for (const field of ['callbacks', 'allowed_logout_urls', 'web_origins'] as const) {
    const list = c[field];
    if (!Array.isArray(list)) continue;
    body[field] = list.filter(isUrl);
    if ((body[field] as unknown[]).length < list.length) notes.push(`${label}: ${field} entries that are not plain URLs (wildcards) were left out`);
  }
  if (c.refresh_token && typeof c.refresh_token === 'object') {
    body.refresh_token = Object.fromEntries(Object.entries(c.refresh_token).filter(([k]) => REFRESH_FIELDS.includes(k)));
  }
  const confidential = (c.token_endpoint_auth_method ?? 'client_secret_post') !== 'none' && c.app_type !== 'spa' && c.app_type !== 'native';
  if (confidential && !body.client_secret) notes.push(`${label}: its secret is not in the source; a new secret is generated (printed once on apply)`);
  if (!c.client_id) notes.push(`${label}: no client_id in the source; a new client_id is generated, the app must change it`);
  return body;
}

function resourceServerSkip(rs: ExportedResourceServer, upstreamManagementApi: string | undefined): string | undefined {
  if (rs.is_system || /\/api\/v2\/?$/.test(rs.identifier) || rs.identifier === upstreamManagementApi) return 'the upstream Management API is not imported';
  if (rs.signing_alg && rs.signing_alg !== 'RS256') return `signing_alg ${rs.signing_alg} is not supported here (RS256 only)`;
  return undefined;
}

function resourceServerBody(rs: ExportedResourceServer, notes: string[]): Record<string, unknown> {
  const body: Record<string, unknown> = { identifier: rs.identifier, name: rs.name, scopes: (rs.scopes ?? []).map((s) => ({ value: s.value, ...(s.description ? { description: s.description } : {}) })) };
  for (const f of ['token_lifetime', 'token_lifetime_for_web', 'allow_offline_access', 'enforce_policies'] as const) if (rs[f] !== undefined) body[f] = rs[f];
  if (rs.token_dialect === 'access_token' || rs.token_dialect === 'access_token_authz') body.token_dialect = rs.token_dialect;
  else if (rs.token_dialect) notes.push(`API "${rs.identifier}": token_dialect "${rs.token_dialect}" is not supported here; access_token is used`);
  return body;
}

/**
 * Compares the source with the target and lists what to create, what to skip and why. Items the
 * target has already (same client_id or name, API identifier, role name, grant, connection
 * name) are left alone, so running the import again changes nothing.
 */
export function planImport(source: TenantExport, target: TargetState): ImportPlan {
  const steps: Step[] = [];
  const skipped: Skip[] = [];
  const notes: string[] = [];

  // APIs first: grants and permissions refer to them.
  const apis = new Map(target.resourceServers.map((r) => [r.identifier, new Set(r.scopes.map((s) => s.value))]));
  const upstreamMgmt = source.resourceServers.find((r) => r.is_system)?.identifier;
  for (const rs of source.resourceServers) {
    const reason = resourceServerSkip(rs, upstreamMgmt);
    if (reason) skipped.push({ item: `API "${rs.identifier}"`, reason });
    else if (apis.has(rs.identifier)) skipped.push({ item: `API "${rs.identifier}"`, reason: 'exists already' });
    else {
      steps.push({ kind: 'create_resource_server', label: `create API "${rs.identifier}"`, body: resourceServerBody(rs, notes) });
      apis.set(rs.identifier, new Set((rs.scopes ?? []).map((s) => s.value)));
    }
  }

  // Clients, by id (or name when the source has no id).
  const known = new Map<ClientRef, string | null>(); // source ref → target id (null: created on apply)
  for (const c of target.clients) known.set(c.client_id, c.client_id);
  const targetByName = new Map(target.clients.map((c) => [c.name, c.client_id]));
  for (const c of source.clients) {
    const item = `client "${c.name}"`;
    if (c.global) {
      skipped.push({ item, reason: "the tenant's global client" });
      continue;
    }
    const existing = c.client_id ? target.clients.find((t) => t.client_id === c.client_id) : target.clients.find((t) => t.name === c.name);
    if (existing) {
      skipped.push({ item, reason: 'exists already' });
      if (c.client_id) known.set(c.client_id, existing.client_id);
      known.set(c.name, existing.client_id);
      continue;
    }
    if (!c.client_id && targetByName.has(c.name)) {
      skipped.push({ item, reason: 'a client with this name exists already' });
      continue;
    }
    steps.push({ kind: 'create_client', label: `create ${item}${c.client_id ? ` keeping client_id ${c.client_id}` : ''}`, ref: { client_id: c.client_id, name: c.name }, body: clientBody(c, notes) });
    if (c.client_id) known.set(c.client_id, c.client_id);
    known.set(c.name, c.client_id ?? null);
  }
  const resolvable = (ref: ClientRef) => known.has(ref);

  // Database connections: name and password policy; the imported clients are enabled on them.
  for (const conn of source.connections) {
    const item = `connection "${conn.name}"`;
    if (conn.strategy !== 'auth0') {
      skipped.push({ item, reason: `strategy ${conn.strategy}: only database connections are imported` });
      continue;
    }
    const clients = (conn.enabled_clients ?? []).filter(resolvable);
    const existing = target.connections.find((t) => t.name === conn.name);
    if (existing) {
      const missing = clients.filter((ref) => {
        const id = known.get(ref);
        return id === null || (id !== undefined && !existing.enabled_clients.includes(id));
      });
      const policy = conn.options?.passwordPolicy;
      if (policy && policy !== (existing.options?.passwordPolicy ?? 'none')) {
        notes.push(`${item}: exists here with another password policy (${existing.options?.passwordPolicy ?? 'none'}; source ${policy}); not changed`);
      }
      if (missing.length) steps.push({ kind: 'enable_clients', label: `enable ${missing.length} client(s) on ${item}`, connectionId: existing.id, current: existing.enabled_clients, clients: missing });
      else skipped.push({ item, reason: 'exists already' });
      continue;
    }
    if (!CONNECTION_NAME.test(conn.name)) {
      skipped.push({ item, reason: 'its name is not a valid connection name here' });
      continue;
    }
    const policy = conn.options?.passwordPolicy;
    const body: Record<string, unknown> = { name: conn.name, strategy: 'auth0', options: policy && POLICIES.has(policy) ? { passwordPolicy: policy } : {} };
    steps.push({ kind: 'create_connection', label: `create ${item}${policy ? ` (password policy ${policy})` : ''}`, body, clients });
  }

  // Client grants for the imported APIs.
  const grants = new Set(target.clientGrants.map((g) => `${g.client_id}\u0000${g.audience}`));
  for (const g of source.clientGrants) {
    const item = `grant of "${g.client_id}" for "${g.audience}"`;
    if (!apis.has(g.audience)) {
      skipped.push({ item, reason: /\/api\/v2\/?$/.test(g.audience) ? 'grants for the upstream Management API are not imported' : 'its API is not imported' });
      continue;
    }
    if (!resolvable(g.client_id)) {
      skipped.push({ item, reason: 'its client is not imported' });
      continue;
    }
    const targetId = known.get(g.client_id);
    if (targetId && grants.has(`${targetId}\u0000${g.audience}`)) {
      skipped.push({ item, reason: 'exists already' });
      continue;
    }
    const defined = apis.get(g.audience)!;
    const scope = (g.scope ?? []).filter((s) => defined.has(s));
    if (scope.length < (g.scope ?? []).length) notes.push(`${item}: scopes its API does not define were left out`);
    steps.push({ kind: 'create_client_grant', label: `create ${item}`, client: g.client_id, audience: g.audience, scope });
  }

  // Roles and their permissions (by role name).
  for (const role of source.roles) {
    const item = `role "${role.name}"`;
    const existing = target.roles.find((r) => r.name === role.name);
    if (!existing) steps.push({ kind: 'create_role', label: `create ${item}`, name: role.name, description: role.description });
    const have = new Set((existing?.permissions ?? []).map((p) => `${p.resource_server_identifier}\u0000${p.permission_name}`));
    const wanted = role.permissions.filter((p) => {
      if (!apis.get(p.resource_server_identifier)?.has(p.permission_name)) {
        skipped.push({ item: `permission ${p.permission_name} of ${item}`, reason: 'its API or scope is not imported' });
        return false;
      }
      return !have.has(`${p.resource_server_identifier}\u0000${p.permission_name}`);
    });
    if (wanted.length) steps.push({ kind: 'add_role_permissions', label: `add ${wanted.length} permission(s) to ${item}`, roleName: role.name, permissions: wanted });
    else if (existing) skipped.push({ item, reason: 'exists already with these permissions' });
  }
  return { steps, skipped, notes };
}
