import type { UserRecord } from '../store/records.js';

/** Auth0's defaults when a user has no name or nickname: the email, and its local part. */
export function displayNames(user: Pick<UserRecord, 'name' | 'nickname' | 'email'>): { name?: string; nickname?: string } {
  return { name: user.name ?? user.email, nickname: user.nickname ?? user.email?.split('@')[0] };
}
