import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchGetItems } from './dynamo-client.js';
import { keys } from './keys.js';
import type { UserRecord } from './records.js';
import type { LoginStats } from './flow-records.js';

/** The login statistics of these users (one BatchGet per 100): user_id → statistics. */
export async function readLoginStats(
  db: DynamoDBDocumentClient,
  tableName: string,
  tenant: string,
  userIds: string[],
): Promise<Map<string, LoginStats>> {
  const stats = new Map<string, LoginStats>();
  const unique = [...new Set(userIds)];
  const prefix = keys.userPartition(tenant, '');
  for (let i = 0; i < unique.length; i += 100) {
    const found = await batchGetItems(db, tableName, unique.slice(i, i + 100).map((id) => keys.userLogins(tenant, id)));
    for (const item of found.values()) {
      stats.set(String(item.pk).slice(prefix.length), {
        last_login: item.last_login as string | undefined,
        last_ip: (item.last_ip as string | null) ?? undefined,
        logins_count: Number(item.logins_count ?? 0),
      });
    }
  }
  return stats;
}

/**
 * A user with its login statistics: the count adds up the user item's own count (users
 * written before the statistics moved kept theirs there) and the statistics item's.
 */
export function withLoginStats(user: UserRecord, stats: LoginStats | undefined): UserRecord {
  if (!stats) return user;
  return {
    ...user,
    last_login: stats.last_login ?? user.last_login,
    last_ip: stats.last_login ? stats.last_ip : user.last_ip,
    logins_count: (user.logins_count ?? 0) + stats.logins_count,
  };
}
