/**
 * Password reset: a one-time link by e-mail (only its hash stored), consumed once to set a new
 * password. For an email known only upstream (import mode with look-up credentials), the reset
 * creates the local user with the upstream `sub` and profile: the reset migrates the user,
 * including users the password fallback cannot migrate (upstream MFA).
 */
import type { Deps } from '../deps.js';
import type { TenantContext } from '../http/tenant-context.js';
import { createUser, type CreateUserDeps, type NewUserProfile } from '../identity/create-user.js';
import { hashPassword } from '../identity/passwords.js';
import { padUntil } from '../identity/failure-timing.js';
import { checkPassword, passwordPolicyOf } from '../identity/password-policy.js';
import { renderEmail } from '../mail/templates.js';
import { keys } from '../store/keys.js';
import type { ClientRecord, ConnectionRecord, UserRecord } from '../store/records.js';
import { hashTicket, newTicketToken, type TicketItem } from '../store/tickets-repository.js';
import { findUpstreamUserByEmail, type UpstreamLookupDeps } from './upstream-lookup.js';

/** Auth0's answer to every change_password request, whatever happened. */
export const CHANGE_PASSWORD_ANSWER = "We've just sent you an email to reset your password.";
/** Auth0's default lifetime of a reset link: 5 days. */
export const DEFAULT_RESET_TTL_SECONDS = 5 * 24 * 3600;
export const RESET_PAGE_PATH = '/u/reset-password';

/** Reset and verification tickets are single items of the table, valid until their own expiry. */
export type TicketDeps = Pick<Deps, 'tickets' | 'now'>;
export type MailDeps = Pick<Deps, 'mailer' | 'sink'>;
export type ResetTargetDeps = Pick<Deps, 'sink' | 'users'> & UpstreamLookupDeps;
export type ResetRequestDeps = Pick<Deps, 'config'> & ResetTargetDeps & TicketDeps & MailDeps;
type MigrateUpstreamUserDeps = Pick<Deps, 'now' | 'sink' | 'users'> & UpstreamLookupDeps & CreateUserDeps;
export type CompleteResetDeps = Pick<Deps, 'config' | 'tickets' | 'now' | 'users' | 'lockouts' | 'migrationCounters'> & MigrateUpstreamUserDeps;

/** The local user of this connection holding this email (not a retired claim). */
export async function localUserByEmail(deps: Pick<Deps, 'users'>, tenant: string, connection: ConnectionRecord, email: string): Promise<UserRecord | undefined> {
  const claim = await deps.users.claimOf(keys.emailClaim(tenant, connection.id, email));
  if (!claim || claim.retired) return undefined;
  const user = await deps.users.getUser(tenant, claim.user_id);
  return user && user.connection_id === connection.id ? user : undefined;
}

export type ResetTarget = { user_id?: string; upstream_user_id?: string };

/** Who a reset for this email would reset: the local user, else (import mode) the upstream one. */
export async function resetTargetOf(deps: ResetTargetDeps, ctx: TenantContext, connection: ConnectionRecord, email: string): Promise<ResetTarget | undefined> {
  const local = await localUserByEmail(deps, ctx.tenant, connection, email);
  if (local) return { user_id: local.user_id };
  if (!connection.options.import_mode) return undefined;
  const upstream = await findUpstreamUserByEmail(deps, ctx, connection, email);
  if (upstream.kind === 'found') return { upstream_user_id: upstream.user.user_id };
  if (upstream.kind === 'failed') deps.sink.warn('upstream_lookup_failed', { tenant: ctx.tenant, connection_id: connection.id, reason: upstream.reason });
  return undefined;
}

/** Stores a one-time ticket and returns its link (the secret is in the link only). */
export async function issueTicket(
  deps: TicketDeps,
  ctx: TenantContext,
  item: Omit<TicketItem, 'tenant' | 'status' | 'expires_at' | 'ttl'>,
  ttlSeconds: number,
  path: string,
): Promise<string> {
  const token = newTicketToken();
  const now = Math.floor(deps.now() / 1000);
  await deps.tickets.put(hashTicket(token), {
    ...item,
    tenant: ctx.tenant,
    status: 'issued',
    expires_at: now + ttlSeconds,
    ttl: now + ttlSeconds + 24 * 3600,
  });
  return `${ctx.issuer}${path.replace(/^\//, '')}?ticket=${encodeURIComponent(token)}`;
}

/**
 * A reset request is answered no sooner than this after it arrived: a local user (ticket and
 * mail), an upstream-only one (the upstream look-up too) and an unknown email (reads only) then
 * take the same time, so the answer's timing does not tell which the email is. It covers the
 * work's usual length (a few DynamoDB requests, an upstream look-up, an SES send); work that
 * runs longer shows, so the floor is a setting (`resetAnswerFloorMs`).
 */
export const DEFAULT_RESET_ANSWER_FLOOR_MS = 1000;

/**
 * `change_password`: mails a reset link when the email belongs to a user (local, or upstream
 * only in import mode), does nothing visible otherwise. Logs `scpr` / `fcpr`. Answered no
 * sooner than the floor above, whichever it was.
 */
export async function requestPasswordReset(
  deps: ResetRequestDeps,
  ctx: TenantContext,
  p: { client: ClientRecord; connection: ConnectionRecord; email: string },
): Promise<void> {
  const startedAt = performance.now();
  try {
    await requestReset(deps, ctx, p);
  } finally {
    await padUntil(startedAt, deps.config.resetAnswerFloorMs ?? DEFAULT_RESET_ANSWER_FLOOR_MS);
  }
}

async function requestReset(deps: ResetRequestDeps, ctx: TenantContext, p: { client: ClientRecord; connection: ConnectionRecord; email: string }): Promise<void> {
  const email = p.email.toLowerCase();
  const base = { client_id: p.client.client_id, client_name: p.client.name, connection: p.connection.name, connection_id: p.connection.id, user_name: email };
  const target = await resetTargetOf(deps, ctx, p.connection, email);
  if (!target) {
    ctx.log.add({ type: 'fcpr', ...base, reason: 'user_not_found' });
    return;
  }
  const url = await issueTicket(deps, ctx, { kind: 'password_change', connection_id: p.connection.id, email, client_id: p.client.client_id, ...target }, DEFAULT_RESET_TTL_SECONDS, RESET_PAGE_PATH);
  const sent = await sendMail(deps, ctx, 'reset_email', email, url, p.client.name);
  ctx.log.add({ type: sent ? 'scpr' : 'fcpr', ...base, user_id: target.user_id ?? target.upstream_user_id, ...(sent ? {} : { reason: 'mail_not_sent' }) });
}

/** Renders and sends a template; false when there is no mailer or sending failed (logged, never thrown). */
export async function sendMail(
  deps: MailDeps,
  ctx: TenantContext,
  template: 'reset_email' | 'verify_email',
  to: string,
  url: string,
  applicationName: string,
): Promise<boolean> {
  if (!deps.mailer) {
    deps.sink.warn('mail_not_configured', { tenant: ctx.tenant, template });
    return false;
  }
  const content = renderEmail(
    template,
    { url, user: { email: to }, application: { name: applicationName }, tenant: { friendly_name: ctx.config.settings.friendly_name } },
    ctx.config.settings.email_templates,
  );
  try {
    await deps.mailer.send({ to, ...content });
    return true;
  } catch (err) {
    deps.sink.error('mail_failed', { tenant: ctx.tenant, template, error_name: err instanceof Error ? err.name : 'unknown' });
    return false;
  }
}

export type ResetOutcome =
  | { kind: 'done'; user_id: string; result_url?: string; migrated: boolean }
  | { kind: 'weak_password'; rules: string[] }
  | { kind: 'invalid_link'; reason: 'used' | 'expired' | 'missing' }
  | { kind: 'failed'; reason: string };

/** The ticket behind a link, if it can still be used (the reset page shows the policy of its connection). */
export async function openResetTicket(deps: TicketDeps, ctx: TenantContext, token: string) {
  const res = await deps.tickets.peek(ctx.tenant, hashTicket(token), Math.floor(deps.now() / 1000));
  if (res.outcome !== 'consumed' || res.ticket.kind !== 'password_change') return { ok: false as const, reason: res.outcome === 'consumed' ? ('missing' as const) : res.outcome };
  const connection = ctx.config.connections.get(res.ticket.connection_id);
  if (!connection) return { ok: false as const, reason: 'missing' as const };
  return { ok: true as const, ticket: res.ticket, connection };
}

/**
 * Sets the new password of the link's user: policy first (a refused password leaves the link
 * usable), then the link is used (one conditional write: of two submissions one wins), then the
 * password is written. The user's lockouts are cleared. For an upstream-only user the local user
 * is created here, with the upstream `sub` and profile, through the registration hooks.
 */
export async function completePasswordReset(deps: CompleteResetDeps, ctx: TenantContext, token: string, password: string): Promise<ResetOutcome> {
  const opened = await openResetTicket(deps, ctx, token);
  if (!opened.ok) {
    ctx.log.add({ type: 'fcp', reason: `link_${opened.reason}` });
    return { kind: 'invalid_link', reason: opened.reason };
  }
  const { ticket, connection } = opened;
  const existing = ticket.user_id ? await deps.users.getUser(ctx.tenant, ticket.user_id) : undefined;
  const broken = checkPassword(passwordPolicyOf(connection), password, existing ?? { email: ticket.email });
  const base = { connection: connection.name, connection_id: connection.id, user_name: ticket.email, client_id: ticket.client_id };
  if (broken.length) {
    ctx.log.add({ type: 'fcp', ...base, user_id: ticket.user_id ?? ticket.upstream_user_id, reason: 'password_policy' });
    return { kind: 'weak_password', rules: broken };
  }
  const hash = hashPassword(password, deps.config.bcryptCost);
  const used = await deps.tickets.consume(ctx.tenant, hashTicket(token), Math.floor(deps.now() / 1000));
  if (used.outcome !== 'consumed') {
    ctx.log.add({ type: 'fcp', ...base, reason: `link_${used.outcome}` });
    return { kind: 'invalid_link', reason: used.outcome };
  }
  const at = new Date(deps.now()).toISOString();
  let userId: string;
  let migrated = false;
  if (existing) {
    await deps.users.putPassword(ctx.tenant, existing.user_id, await hash, at);
    if (ticket.mark_email_as_verified && !existing.email_verified) await deps.users.putUser({ ...existing, email_verified: true, updated_at: at });
    userId = existing.user_id;
  } else if (ticket.upstream_user_id) {
    const created = await migrateUpstreamUser(deps, ctx, connection, ticket, await hash);
    if (created.kind === 'failed') {
      ctx.log.add({ type: 'fcp', ...base, user_id: ticket.upstream_user_id, reason: created.reason });
      return created;
    }
    userId = created.user_id;
    migrated = created.migrated;
  } else {
    ctx.log.add({ type: 'fcp', ...base, user_id: ticket.user_id, reason: 'user_deleted' });
    return { kind: 'invalid_link', reason: 'missing' };
  }
  // A reset releases the user's login blocks (Auth0 does the same).
  await clearLockouts(deps, ctx, connection.id, [`user:${userId}`, `id:${ticket.email}`, ...(existing?.username ? [`id:${existing.username}`] : [])]);
  ctx.log.add({ type: 'scp', ...base, user_id: userId, ...(migrated ? { migration: 'password_reset' as const } : {}) });
  if (migrated) await deps.migrationCounters.increment(ctx.tenant, at.slice(0, 10), 'password_reset').catch(() => {});
  return { kind: 'done', user_id: userId, result_url: ticket.result_url, migrated };
}

/** Queues the deletion of every lockout item (per IP and the ceiling) of these subjects with the request's final write. */
async function clearLockouts(deps: Pick<Deps, 'lockouts'>, ctx: TenantContext, connectionId: string, subjects: string[]): Promise<void> {
  for (const subject of subjects) {
    for (const key of await deps.lockouts.countersOfSubject(ctx.tenant, connectionId, subject)) ctx.log.deleteOnFlush(key);
  }
}

/** Creates the local user of an upstream-only account, with its upstream `sub`, profile and the new password. */
async function migrateUpstreamUser(
  deps: MigrateUpstreamUserDeps,
  ctx: TenantContext,
  connection: ConnectionRecord,
  ticket: TicketItem,
  passwordHash: string,
): Promise<{ kind: 'ok'; user_id: string; migrated: boolean } | { kind: 'failed'; reason: string }> {
  const found = await findUpstreamUserByEmail(deps, ctx, connection, ticket.email);
  if (found.kind !== 'found' || found.user.user_id !== ticket.upstream_user_id) return { kind: 'failed', reason: found.kind === 'failed' ? found.reason : 'upstream_user_changed' };
  const u = found.user;
  const str = (k: string) => (typeof u[k] === 'string' ? (u[k] as string) : undefined);
  const obj = (k: string) => (u[k] && typeof u[k] === 'object' && !Array.isArray(u[k]) ? (u[k] as Record<string, unknown>) : undefined);
  const profile: NewUserProfile = {
    user_id: u.user_id,
    email: ticket.email,
    email_verified: u.email_verified === true || ticket.mark_email_as_verified === true,
    username: str('username'),
    name: str('name'),
    nickname: str('nickname'),
    given_name: str('given_name'),
    family_name: str('family_name'),
    picture: str('picture'),
    app_metadata: obj('app_metadata'),
    user_metadata: obj('user_metadata'),
    ...(u.blocked === true ? { blocked: true } : {}),
  };
  let outcome;
  try {
    outcome = await createUser(deps, { tenant: ctx.tenant, connection, profile, passwordHash, arrival: { via: 'password_reset' } });
  } catch (err) {
    // A registration hook denied the user (or could not be reached): nothing was created.
    deps.sink.warn('reset_migration_refused', { tenant: ctx.tenant, user_id: u.user_id, error_name: err instanceof Error ? err.name : 'unknown' });
    return { kind: 'failed', reason: 'registration_refused' };
  }
  if (outcome.outcome === 'identifier_taken') return { kind: 'failed', reason: 'identifier_taken' };
  // Migrated meanwhile (a login through the password fallback): the reset still sets the new password.
  if (outcome.outcome === 'exists') await deps.users.putPassword(ctx.tenant, outcome.user.user_id, passwordHash, new Date(deps.now()).toISOString());
  return { kind: 'ok', user_id: outcome.user.user_id, migrated: outcome.outcome === 'created' };
}
