import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { ExportedClient, ExportedClientGrant, ExportedConnection, ExportedResourceServer, ExportedRole, TenantExport } from './tenant-export.js';

const asArray = <T>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);

function readJsonFiles<T>(dir: string): T[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as T);
}

/** `database-connections/<name>/database.json` (the scripts beside it are custom DB code, not imported). */
function readDatabases(dir: string): ExportedConnection[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => statSync(join(dir, name)).isDirectory() && existsSync(join(dir, name, 'database.json')))
    .sort()
    .map((name) => JSON.parse(readFileSync(join(dir, name, 'database.json'), 'utf8')) as Partial<ExportedConnection>)
    .map((d) => ({ ...d, name: String(d.name), strategy: d.strategy ?? 'auth0' }));
}

/**
 * An Auth0 Deploy CLI export: a directory (`clients/`, `resource-servers/`, `roles/`, `grants/`,
 * `database-connections/<name>/database.json`, `connections/`) or a YAML file (`clients`,
 * `resourceServers`, `roles`, `clientGrants`, `databases`, `connections`). Exports name clients
 * instead of giving their ids in grants and connections; the plan resolves names.
 */
export function readDeployCliExport(path: string): TenantExport {
  if (statSync(path).isDirectory()) {
    return {
      origin: `Deploy CLI directory ${path}`,
      clients: readJsonFiles<ExportedClient>(join(path, 'clients')),
      resourceServers: readJsonFiles<ExportedResourceServer>(join(path, 'resource-servers')),
      roles: readJsonFiles<ExportedRole>(join(path, 'roles')).map((r) => ({ ...r, permissions: asArray(r.permissions) })),
      clientGrants: readJsonFiles<ExportedClientGrant>(join(path, 'grants')),
      connections: [...readDatabases(join(path, 'database-connections')), ...readJsonFiles<ExportedConnection>(join(path, 'connections'))],
    };
  }
  const doc = (parseYaml(readFileSync(path, 'utf8')) ?? {}) as Record<string, unknown>;
  return {
    origin: `Deploy CLI YAML ${path}`,
    clients: asArray<ExportedClient>(doc.clients),
    resourceServers: asArray<ExportedResourceServer>(doc.resourceServers),
    roles: asArray<ExportedRole>(doc.roles).map((r) => ({ ...r, permissions: asArray(r.permissions) })),
    clientGrants: asArray<ExportedClientGrant>(doc.clientGrants),
    connections: [
      ...asArray<Partial<ExportedConnection>>(doc.databases).map((d) => ({ ...d, name: String(d.name), strategy: d.strategy ?? 'auth0' })),
      ...asArray<ExportedConnection>(doc.connections),
    ],
  };
}
