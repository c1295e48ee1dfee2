/**
 * Key builders of the single table, one place for every item kind.
 * Tenant-level configuration (settings, clients, connections, APIs, grants, migration
 * sources, hooks, domains) shares the partition `TENANT#t`, so one Query loads a tenant's
 * whole configuration.
 */
export const keys = {
  tenantPartition: (t: string) => `TENANT#${t}`,
  tenant: (t: string) => ({ pk: `TENANT#${t}`, sk: 'TENANT' }),
  client: (t: string, clientId: string) => ({ pk: `TENANT#${t}`, sk: `CLIENT#${clientId}` }),
  connection: (t: string, connectionId: string) => ({ pk: `TENANT#${t}`, sk: `CONNECTION#${connectionId}` }),
  resourceServer: (t: string, id: string) => ({ pk: `TENANT#${t}`, sk: `RESOURCE_SERVER#${id}` }),
  clientGrant: (t: string, id: string) => ({ pk: `TENANT#${t}`, sk: `CLIENT_GRANT#${id}` }),
  migrationSource: (t: string, id: string) => ({ pk: `TENANT#${t}`, sk: `MIGRATION_SOURCE#${id}` }),
  hook: (t: string, id: string) => ({ pk: `TENANT#${t}`, sk: `HOOK#${id}` }),
  /** A users-export job (`/api/v2/jobs/users-exports`), in a partition of its own. */
  usersExportJob: (t: string, jobId: string) => ({ pk: `TENANT#${t}#JOB#${jobId}`, sk: 'USERS_EXPORT' }),
  role: (t: string, id: string) => ({ pk: `TENANT#${t}`, sk: `ROLE#${id}` }),
  claimMapping: (t: string, id: string) => ({ pk: `TENANT#${t}`, sk: `CLAIM_MAPPING#${id}` }),
  domain: (host: string) => ({ pk: `DOMAIN#${host.toLowerCase()}`, sk: 'DOMAIN' }),

  userPartition: (t: string, userId: string) => `TENANT#${t}#USER#${userId}`,
  user: (t: string, userId: string) => ({ pk: `TENANT#${t}#USER#${userId}`, sk: 'USER' }),
  password: (t: string, userId: string) => ({ pk: `TENANT#${t}#USER#${userId}`, sk: 'PASSWORD' }),
  /** The users listing of earlier versions: one gsi1 key per tenant (read, no longer written). */
  usersIndex: (t: string) => `TENANT#${t}#USERS`,
  usersIndexShard: (t: string, shard: number) => `TENANT#${t}#USERS#${shard}`,
  /** A user's login statistics, apart from the user item so that a login writes no index. */
  userLogins: (t: string, userId: string) => ({ pk: `TENANT#${t}#USER#${userId}`, sk: 'LOGINS' }),
  emailClaim: (t: string, connectionId: string, email: string) => ({
    pk: `TENANT#${t}#CONN#${connectionId}#EMAIL#${email.toLowerCase()}`,
    sk: 'CLAIM',
  }),
  usernameClaim: (t: string, connectionId: string, username: string) => ({
    pk: `TENANT#${t}#CONN#${connectionId}#USERNAME#${username.toLowerCase()}`,
    sk: 'CLAIM',
  }),
  /** A role of a user, in the user's partition: the record tokens read. */
  userRole: (t: string, userId: string, roleId: string) => ({ pk: `TENANT#${t}#USER#${userId}`, sk: `ROLE#${roleId}` }),
  /** The same membership seen from the role, sharded so a popular role never concentrates writes on one key. */
  roleMember: (t: string, roleId: string, shard: number, userId: string) => ({
    pk: `TENANT#${t}#ROLEUSERS#${roleId}#${shard}`,
    sk: `USER#${userId}`,
  }),
  roleMembersShard: (t: string, roleId: string, shard: number) => `TENANT#${t}#ROLEUSERS#${roleId}#${shard}`,
  /** Strikes of one (connection, user or identifier) from one client IP (`*`: from any IP). */
  lockout: (t: string, connectionId: string, subject: string, ip = '*') => ({
    pk: `TENANT#${t}#LOCK#${connectionId}#${subject.toLowerCase()}`,
    sk: `LOCK#${ip}`,
  }),
  /** Failures of one (connection, user or identifier) from every IP: the identifier-wide ceiling. */
  lockoutCeiling: (t: string, connectionId: string, subject: string) => ({
    pk: `TENANT#${t}#LOCK#${connectionId}#${subject.toLowerCase()}`,
    sk: 'CEILING',
  }),
  /** Failed password attempts of one client IP across identifiers (suspicious-IP throttling). */
  ipThrottle: (t: string, ip: string) => ({ pk: `TENANT#${t}#IPTHROTTLE#${ip}`, sk: 'PRE_LOGIN' }),
  attackProtection: (t: string, kind: 'brute-force-protection' | 'suspicious-ip-throttling') => ({
    pk: `TENANT#${t}`,
    sk: `ATTACK_PROTECTION#${kind}`,
  }),

  refreshToken: (tokenId: string) => ({ pk: `RT#${tokenId}`, sk: 'RT' }),
  refreshFamily: (familyId: string) => ({ pk: `RTFAMILY#${familyId}`, sk: 'FAMILY' }),
  upstreamBudget: (t: string, upstreamHost: string) => ({ pk: `TENANT#${t}#UPSTREAM#${upstreamHost.toLowerCase()}`, sk: 'BUDGET' }),
  upstreamTokenConsumed: (t: string, sha256: string) => ({ pk: `TENANT#${t}#UPRT#${sha256}`, sk: 'CONSUMED' }),

  /** A tenant's day of logs in earlier versions: one partition (read, no longer written). */
  logDay: (t: string, day: string) => `TENANT#${t}#LOG#${day}`,
  logDayShard: (t: string, day: string, shard: number) => `TENANT#${t}#LOG#${day}#${shard}`,
  logsOfUser: (t: string, userId: string) => `TENANT#${t}#LOGUSER#${userId}`,
  /** A tenant's day of migration counters in earlier versions (read, no longer written). */
  migrationCounters: (t: string, day: string) => ({ pk: `TENANT#${t}#MIGRATION#${day}`, sk: 'COUNTS' }),
  migrationCountersShard: (t: string, day: string, shard: number) => ({ pk: `TENANT#${t}#MIGRATION#${day}#${shard}`, sk: 'COUNTS' }),
};

export type { ItemKey } from './records.js';
