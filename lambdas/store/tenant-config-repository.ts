import { GetCommand, PutCommand, QueryCommand, DeleteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { keys, type ItemKey } from './keys.js';
import type {
  ClientGrantRecord,
  ClaimMappingRecord,
  ClientRecord,
  ConnectionRecord,
  HookRecord,
  MigrationSourceRecord,
  ResourceServerRecord,
  RoleRecord,
  TenantSettings,
  TenantConfig,
} from './records.js';
import type { TenantConfigCache, TenantConfigStore, WriteOutcome } from '../ports.js';
import { isConditionalCheckFailed } from './dynamo-client.js';

export type { TenantConfig } from './records.js';

const kindPrefixes = {
  client: 'CLIENT#',
  connection: 'CONNECTION#',
  resourceServer: 'RESOURCE_SERVER#',
  clientGrant: 'CLIENT_GRANT#',
  migrationSource: 'MIGRATION_SOURCE#',
  hook: 'HOOK#',
  role: 'ROLE#',
  claimMapping: 'CLAIM_MAPPING#',
} as const;

function strip<T>(item: Record<string, unknown>): T {
  const { pk: _pk, sk: _sk, kind: _kind, ...rest } = item;
  return rest as T;
}

export function connectionByName(config: TenantConfig, name: string): ConnectionRecord | undefined {
  for (const c of config.connections.values()) if (c.name === name) return c;
  return undefined;
}

export function createTenantConfigRepository(db: DynamoDBDocumentClient, tableName: string): TenantConfigStore {
  async function load(tenant: string): Promise<TenantConfig | undefined> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const res = await db.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': keys.tenantPartition(tenant) },
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...((res.Items ?? []) as Record<string, unknown>[]));
      startKey = res.LastEvaluatedKey;
    } while (startKey);
    const settingsItem = items.find((i) => i.sk === 'TENANT');
    if (!settingsItem) return undefined;
    const config: TenantConfig = {
      settings: strip<TenantSettings>(settingsItem),
      clients: new Map(),
      connections: new Map(),
      resourceServers: new Map(),
      clientGrants: [],
      migrationSources: [],
      hooks: [],
      roles: new Map(),
      claimMappings: [],
      attackProtection: {},
    };
    for (const item of items) {
      const sk = String(item.sk);
      if (sk.startsWith(kindPrefixes.client)) {
        const c = strip<ClientRecord>(item);
        config.clients.set(c.client_id, c);
      } else if (sk.startsWith(kindPrefixes.connection)) {
        const c = strip<ConnectionRecord>(item);
        config.connections.set(c.id, c);
      } else if (sk.startsWith(kindPrefixes.resourceServer)) {
        const r = strip<ResourceServerRecord>(item);
        config.resourceServers.set(r.identifier, r);
      } else if (sk.startsWith(kindPrefixes.clientGrant)) config.clientGrants.push(strip(item));
      else if (sk.startsWith(kindPrefixes.migrationSource)) config.migrationSources.push(strip(item));
      else if (sk.startsWith(kindPrefixes.hook)) config.hooks.push(strip(item));
      else if (sk.startsWith(kindPrefixes.role)) {
        const r = strip<RoleRecord>(item);
        config.roles.set(r.id, r);
      } else if (sk.startsWith(kindPrefixes.claimMapping)) config.claimMappings.push(strip(item));
      else if (sk === 'ATTACK_PROTECTION#brute-force-protection') config.attackProtection.bruteForce = strip(item);
      else if (sk === 'ATTACK_PROTECTION#suspicious-ip-throttling') config.attackProtection.suspiciousIp = strip(item);
    }
    return config;
  }

  /** Writes an item; a failed condition is an outcome (`conflict` for mustNotExist, `not_found` for mustExist). */
  async function putItem(key: ItemKey, record: object, opts: { mustNotExist?: boolean; mustExist?: boolean } = {}): Promise<WriteOutcome> {
    try {
      await db.send(
        new PutCommand({
          TableName: tableName,
          Item: { ...key, ...record },
          ConditionExpression: opts.mustNotExist
            ? 'attribute_not_exists(pk)'
            : opts.mustExist
              ? 'attribute_exists(pk)'
              : undefined,
        }),
      );
      return { ok: true };
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
      return { ok: false, reason: opts.mustNotExist ? 'conflict' : 'not_found' };
    }
  }

  return {
    load,
    putSettings: (settings: TenantSettings, opts?: { mustNotExist?: boolean }) =>
      putItem(keys.tenant(settings.tenant), settings, opts),
    putClient: (tenant: string, c: ClientRecord, opts?: { mustNotExist?: boolean; mustExist?: boolean }) =>
      putItem(keys.client(tenant, c.client_id), c, opts),
    putConnection: (tenant: string, c: ConnectionRecord, opts?: { mustNotExist?: boolean; mustExist?: boolean }) =>
      putItem(keys.connection(tenant, c.id), c, opts),
    putResourceServer: (tenant: string, r: ResourceServerRecord, opts?: { mustNotExist?: boolean; mustExist?: boolean }) =>
      putItem(keys.resourceServer(tenant, r.id), r, opts),
    putClientGrant: (tenant: string, g: ClientGrantRecord, opts?: { mustNotExist?: boolean; mustExist?: boolean }) =>
      putItem(keys.clientGrant(tenant, g.id), g, opts),
    putMigrationSource: (tenant: string, s: MigrationSourceRecord, opts?: { mustNotExist?: boolean; mustExist?: boolean }) =>
      putItem(keys.migrationSource(tenant, s.id), s, opts),
    putHook: (tenant: string, h: HookRecord, opts?: { mustNotExist?: boolean; mustExist?: boolean }) =>
      putItem(keys.hook(tenant, h.id), h, opts),
    putRole: (tenant: string, r: RoleRecord, opts?: { mustNotExist?: boolean; mustExist?: boolean }) =>
      putItem(keys.role(tenant, r.id), r, opts),
    putClaimMapping: (tenant: string, m: ClaimMappingRecord, opts?: { mustNotExist?: boolean }) =>
      putItem(keys.claimMapping(tenant, m.id), m, opts),
    putAttackProtection: (tenant: string, kind: 'brute-force-protection' | 'suspicious-ip-throttling', record: object) =>
      putItem(keys.attackProtection(tenant, kind), record),
    deleteItem: (key: ItemKey) => db.send(new DeleteCommand({ TableName: tableName, Key: key })),
    /** Maps a host name to its tenant (custom domains). */
    putDomain: (host: string, tenant: string) => putItem(keys.domain(host), { tenant }),
    async tenantOfDomain(host: string): Promise<string | undefined> {
      const res = await db.send(new GetCommand({ TableName: tableName, Key: keys.domain(host) }));
      return res.Item?.tenant as string | undefined;
    },
  };
}

export type TenantConfigRepository = TenantConfigStore;

/**
 * A short-lived in-memory cache of tenant configuration, so a warm Lambda does not read the
 * configuration on every request. Writes through the Management API invalidate it in the same
 * process; other processes see a change within `ttlMs`.
 */
export function createTenantConfigCache(opts: { ttlMs: number; now?: () => number }): TenantConfigCache {
  const now = opts.now ?? Date.now;
  const entries = new Map<string, { at: number; value: Promise<TenantConfig | undefined> }>();
  return {
    get(tenant: string, loader: (tenant: string) => Promise<TenantConfig | undefined>) {
      const hit = entries.get(tenant);
      if (hit && now() - hit.at < opts.ttlMs) return hit.value;
      const value = loader(tenant);
      entries.set(tenant, { at: now(), value });
      value.catch(() => entries.delete(tenant));
      return value;
    },
    invalidate(tenant: string) {
      entries.delete(tenant);
    },
  };
}

export type { TenantConfigCache };
