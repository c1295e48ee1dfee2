import { randomBytes } from 'node:crypto';
import * as z from 'zod/mini';
import { issueVerificationTicket, sendVerificationEmail } from '../dbconnections/email-verification.js';
import { DEFAULT_RESET_TTL_SECONDS, issueTicket, RESET_PAGE_PATH, resetTargetOf, type MailDeps, type ResetTargetDeps, type TicketDeps } from '../dbconnections/password-reset.js';
import type { Deps } from '../deps.js';
import { created, currentConfig, ok, type ManagementEndpoint, type ManagementRequest } from './endpoint.js';
import { managementErrors } from './errors.js';
import { parseBody } from './request.js';
import { USER_ID } from './users.js';

const url = z.string().check(z.maxLength(2048), z.regex(/^https?:\/\/\S+$/));
const ttl = z.number().check(z.int(), z.gte(0), z.lte(30 * 24 * 3600));
const passwordChangeSchema = z.strictObject({
  user_id: z.optional(z.string().check(z.regex(USER_ID))),
  email: z.optional(z.string().check(z.maxLength(254), z.regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/))),
  connection_id: z.optional(z.string().check(z.maxLength(64))),
  client_id: z.optional(z.string().check(z.maxLength(128))),
  result_url: z.optional(url),
  ttl_sec: z.optional(ttl),
  mark_email_as_verified: z.optional(z.boolean()),
  includeEmailInRedirect: z.optional(z.boolean()),
});
const verificationSchema = z.strictObject({
  user_id: z.string().check(z.regex(USER_ID)),
  client_id: z.optional(z.string().check(z.maxLength(128))),
  result_url: z.optional(url),
  ttl_sec: z.optional(ttl),
  includeEmailInRedirect: z.optional(z.boolean()),
});
const jobSchema = z.strictObject({ user_id: z.string().check(z.regex(USER_ID)), client_id: z.optional(z.string().check(z.maxLength(128))) });

const noUser = () => managementErrors.notFound('inexistent_user', 'The user does not exist.');

async function localUser(req: ManagementRequest<Pick<Deps, 'users'>>, userId: string) {
  const user = await req.deps.users.getUser(req.ctx.tenant, userId);
  if (!user) throw noUser();
  return user;
}

export const ticketEndpoints = {
  /** `POST /api/v2/tickets/password-change`: a reset link for a user (`user_id`, or `email` + `connection_id`, upstream-only users included). */
  passwordChange: {
    scopes: ['create:user_tickets'],
    write: { description: 'Create a password change ticket', config: false },
    async run(req: ManagementRequest<Pick<Deps, 'tenantConfigs' | 'users'> & ResetTargetDeps & TicketDeps>) {
      const body = parseBody(passwordChangeSchema, req.event);
      const config = await currentConfig(req);
      let target: { user_id?: string; upstream_user_id?: string } | undefined;
      let connectionId: string;
      let email: string;
      if (body.user_id) {
        const user = await localUser(req, body.user_id);
        if (!user.email) throw managementErrors.badRequest('invalid_body', 'The user has no email address.');
        [target, connectionId, email] = [{ user_id: user.user_id }, user.connection_id, user.email];
      } else {
        if (!body.email || !body.connection_id) throw managementErrors.invalidBody("'Missing required property: user_id, or email and connection_id' on property (root).");
        const connection = config.connections.get(body.connection_id);
        if (!connection) throw managementErrors.notFound('inexistent_connection', 'The connection does not exist');
        target = await resetTargetOf(req.deps, req.ctx, connection, body.email.toLowerCase());
        if (!target) throw noUser();
        [connectionId, email] = [connection.id, body.email.toLowerCase()];
      }
      const ticket = await issueTicket(
        req.deps,
        req.ctx,
        { kind: 'password_change', connection_id: connectionId, email, client_id: body.client_id, result_url: body.result_url, mark_email_as_verified: body.mark_email_as_verified, ...target },
        body.ttl_sec || DEFAULT_RESET_TTL_SECONDS,
        RESET_PAGE_PATH,
      );
      return created({ ticket });
    },
  },

  /** `POST /api/v2/tickets/email-verification`: a verification link for a local user. */
  emailVerification: {
    scopes: ['create:user_tickets'],
    write: { description: 'Create an email verification ticket', config: false },
    async run(req: ManagementRequest<Pick<Deps, 'users'> & TicketDeps>) {
      const body = parseBody(verificationSchema, req.event);
      const user = await localUser(req, body.user_id);
      if (!user.email) throw managementErrors.badRequest('invalid_body', 'The user has no email address.');
      return created({ ticket: await issueVerificationTicket(req.deps, req.ctx, user, { clientId: body.client_id, resultUrl: body.result_url, ttlSeconds: body.ttl_sec }) });
    },
  },

  /** `POST /api/v2/jobs/verification-email`: mails the verification link (sent at once; the job is complete). */
  verificationEmailJob: {
    scopes: ['update:users'],
    write: { description: 'Send a verification email', config: false },
    async run(req: ManagementRequest<Pick<Deps, 'users' | 'now'> & TicketDeps & MailDeps>) {
      const body = parseBody(jobSchema, req.event);
      const user = await localUser(req, body.user_id);
      if (!user.email) throw managementErrors.badRequest('invalid_body', 'The user has no email address.');
      const sent = await sendVerificationEmail(req.deps, req.ctx, user, body.client_id);
      const at = new Date(req.deps.now()).toISOString();
      return ok({ type: 'verification_email', status: sent ? 'completed' : 'failed', created_at: at, id: `job_${randomBytes(8).toString('hex')}` });
    },
  },
} satisfies Record<string, ManagementEndpoint>;
