import type { TenantContext } from '../http/tenant-context.js';
import type { LogType, MigrationPath } from '../logs/log-types.js';
import type { UserRecord } from '../store/records.js';
import type { PasswordLoginInput } from './password-login.js';

/** A password check that succeeded: the user, the log fields of its events and the migration that served it. */
export interface PasswordLoginSuccess {
  user: UserRecord;
  event: {
    client_id: string;
    client_name?: string;
    connection: string;
    connection_id: string;
    strategy: string;
    user_id: string;
    user_name?: string;
    details?: Record<string, unknown>;
  };
  migration?: MigrationPath;
}

/** The log fields of every event about a password login of `user`. */
export function loginEventFields(input: PasswordLoginInput, user: UserRecord): PasswordLoginSuccess['event'] {
  return {
    client_id: input.clientId,
    client_name: input.clientName,
    connection: input.connection.name,
    connection_id: input.connection.id,
    strategy: input.connection.strategy,
    user_id: user.user_id,
    user_name: user.email ?? user.username,
  };
}

/** Describes a successful `authenticateWithPassword` for the password grants and the login page alike. */
export function passwordLoginSuccess(ctx: TenantContext, input: PasswordLoginInput, user: UserRecord): PasswordLoginSuccess {
  return {
    user,
    event: loginEventFields(input, user),
    // The fallback logs the user it migrated on this request; the success events carry it too.
    migration: ctx.log.events.find((e) => e.migration && e.user_id === user.user_id)?.migration,
  };
}

/** A blocked user passes the password check but not the login: logged as `f`, and true is returned. */
export async function refuseBlockedUser(ctx: TenantContext, login: PasswordLoginSuccess): Promise<boolean> {
  if (!login.user.blocked) return false;
  ctx.log.add({ ...login.event, type: 'f', reason: 'user_blocked' });
  await ctx.log.flush();
  return true;
}

/** Adds the success events (`s`, and `sepft` for the grant) with the migration detail. */
export function logLoginSuccess(ctx: TenantContext, login: PasswordLoginSuccess, types: LogType[]): void {
  for (const type of types) ctx.log.add({ ...login.event, type, migration: login.migration });
}
