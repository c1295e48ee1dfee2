/**
 * E-mail verification: a one-time link (ticket) that sets `email_verified` on the user. Issued
 * by `POST /api/v2/tickets/email-verification` (the link is returned) and by
 * `POST /api/v2/jobs/verification-email` (the link is mailed).
 */
import type { Deps } from '../deps.js';
import type { TenantContext } from '../http/tenant-context.js';
import type { UserRecord } from '../store/records.js';
import { hashTicket } from '../store/tickets-repository.js';
import { issueTicket, sendMail, type MailDeps, type TicketDeps } from './password-reset.js';

export const VERIFY_PAGE_PATH = '/u/email-verification';
export const DEFAULT_VERIFICATION_TTL_SECONDS = 5 * 24 * 3600;

export function issueVerificationTicket(
  deps: TicketDeps,
  ctx: TenantContext,
  user: UserRecord,
  p: { clientId?: string; resultUrl?: string; ttlSeconds?: number } = {},
): Promise<string> {
  return issueTicket(
    deps,
    ctx,
    { kind: 'email_verification', connection_id: user.connection_id, email: user.email ?? '', user_id: user.user_id, client_id: p.clientId, result_url: p.resultUrl },
    p.ttlSeconds || DEFAULT_VERIFICATION_TTL_SECONDS,
    VERIFY_PAGE_PATH,
  );
}

/** Mails a verification link to the user; false when the mail could not be sent. */
export async function sendVerificationEmail(deps: TicketDeps & MailDeps, ctx: TenantContext, user: UserRecord, clientId?: string): Promise<boolean> {
  if (!user.email) return false;
  const url = await issueVerificationTicket(deps, ctx, user, { clientId });
  const appName = (clientId && ctx.config.clients.get(clientId)?.name) || ctx.config.settings.friendly_name;
  const sent = await sendMail(deps, ctx, 'verify_email', user.email, url, appName);
  ctx.log.add({ type: sent ? 'sv' : 'fv', user_id: user.user_id, user_name: user.email, connection: user.connection, connection_id: user.connection_id, client_id: clientId, ...(sent ? {} : { reason: 'mail_not_sent' }) });
  return sent;
}

export type VerifyOutcome = { kind: 'verified'; result_url?: string } | { kind: 'invalid_link' };

/** Uses a verification link (once) and marks the user's email verified. */
export async function verifyEmail(deps: TicketDeps & Pick<Deps, 'users'>, ctx: TenantContext, token: string): Promise<VerifyOutcome> {
  const tickets = deps.tickets;
  const now = Math.floor(deps.now() / 1000);
  const peek = await tickets.peek(ctx.tenant, hashTicket(token), now);
  if (peek.outcome !== 'consumed' || peek.ticket.kind !== 'email_verification' || !peek.ticket.user_id) return { kind: 'invalid_link' };
  const used = await tickets.consume(ctx.tenant, hashTicket(token), now);
  if (used.outcome !== 'consumed') return { kind: 'invalid_link' };
  const user = await deps.users.getUser(ctx.tenant, used.ticket.user_id!);
  // The address changed since the link was sent: the link verified the old one, not this.
  if (!user || user.email !== used.ticket.email) return { kind: 'invalid_link' };
  if (!user.email_verified) {
    // Deleted since it was read: the link verifies nobody.
    const saved = await deps.users.putUser({ ...user, email_verified: true, updated_at: new Date(deps.now()).toISOString() });
    if (!saved.ok) return { kind: 'invalid_link' };
  }
  return { kind: 'verified', result_url: used.ticket.result_url };
}
