/**
 * `POST /dbconnections/signup` with Auth0's body, answer and errors. In import mode an email
 * that exists upstream never becomes a second identity: the look-up (the old tenant's
 * Management API) runs first and such a signup answers `user_exists`, as Auth0 does for an
 * existing user. Without look-up credentials an import-mode connection refuses signups: anyone
 * could otherwise pre-register an upstream user's email and lock them out of their migration.
 */
import type { HttpEvent } from '../http/event.js';
import { json, type HttpResponse } from '../http/responses.js';
import type { Deps } from '../deps.js';
import type { TenantContextDeps } from '../http/tenant-context.js';
import { createUser, type CreateUserDeps, type NewUserProfile } from '../identity/create-user.js';
import { checkPassword, describePolicy, NOT_IN_DICTIONARY, passwordPolicyOf } from '../identity/password-policy.js';
import { isAllowlisted, suspiciousIpThrottlingOf } from '../identity/attack-protection.js';
import { RegistrationDeniedError } from '../identity/registration-hooks.js';
import type { RateLimit } from '../store/rate-limit-repository.js';
import { resolveDbRequest } from './change-password-endpoint.js';
import { dbError, isEmail, stringField } from './db-errors.js';
import { sendVerificationEmail } from './email-verification.js';
import type { MailDeps, TicketDeps } from './password-reset.js';
import { findUpstreamUserByEmail, upstreamLookupConfigured, type UpstreamLookupDeps } from './upstream-lookup.js';


export const IMPORT_MODE_SIGNUP_REFUSED =
  'Sign up is not available on this connection while it imports users from the previous tenant without look-up credentials (options.configuration.management_api).';

const USERNAME = /^[\w.+\-!#$^`~@']{1,128}$/;

export async function signupEndpoint(deps: TenantContextDeps & Pick<Deps, 'rateLimits'> & TicketDeps & MailDeps & UpstreamLookupDeps & CreateUserDeps, event: HttpEvent): Promise<HttpResponse> {
  const req = await resolveDbRequest(deps, event);
  if (!('ctx' in req)) return req;
  const { ctx, client, connection, fields } = req;
  const fail = async (res: HttpResponse, reason: string, email?: string) => {
    ctx.log.add({ type: 'fs', client_id: client.client_id, client_name: client.name, connection: connection.name, connection_id: connection.id, user_name: email, reason });
    await ctx.log.flush();
    return res;
  };
  const email = stringField(fields, 'email')?.toLowerCase();
  const password = typeof fields.password === 'string' ? fields.password : undefined;
  const username = stringField(fields, 'username');
  if (connection.options.disable_signup) return fail(dbError(400, 'operation_not_allowed', 'Public signup is disabled'), 'signup_disabled', email);
  if (!email || !isEmail(email)) return fail(dbError(400, 'invalid_signup', 'Invalid sign up: a valid email is required.'), 'bad_email');
  if (!password) return fail(dbError(400, 'invalid_signup', 'Invalid sign up: password is required.'), 'no_password', email);
  if (password.length > 1024) return fail(dbError(400, 'invalid_signup', 'Invalid sign up: password is too long.'), 'bad_password', email);
  if (connection.options.requires_username && !username) return fail(dbError(400, 'invalid_signup', 'Invalid sign up: username is required.'), 'no_username', email);
  if (username !== undefined && !USERNAME.test(username)) return fail(dbError(400, 'invalid_signup', 'Invalid sign up: the username has characters that are not allowed.'), 'bad_username', email);
  const meta = fields.user_metadata;
  if (meta !== undefined && (!meta || typeof meta !== 'object' || Array.isArray(meta))) return fail(dbError(400, 'invalid_signup', 'Invalid sign up: user_metadata must be an object.'), 'bad_metadata', email);
  const optional = (k: string) => {
    const v = fields[k];
    return typeof v === 'string' && v.length <= 300 ? v : undefined;
  };
  const profile: NewUserProfile = {
    email,
    username: connection.options.requires_username ? username : undefined,
    given_name: optional('given_name'),
    family_name: optional('family_name'),
    name: optional('name') ?? email,
    nickname: optional('nickname') ?? email.split('@')[0],
    picture: optional('picture'),
    user_metadata: meta as Record<string, unknown> | undefined,
  };

  const policy = passwordPolicyOf(connection);
  const broken = checkPassword(policy, password, profile);
  if (broken.length === 1 && broken[0] === NOT_IN_DICTIONARY) {
    // Auth0 names a dictionary word apart from the strength rules.
    const body = { name: 'PasswordDictionaryError', message: 'Password is too common', code: 'password_dictionary_error', description: 'Password is too common', statusCode: 400 };
    return fail(json(400, body), 'password_dictionary', email);
  }
  if (broken.length) {
    const rules = describePolicy(policy);
    return fail(
      json(400, {
        name: 'PasswordStrengthError',
        message: 'Password is too weak',
        code: 'invalid_password',
        description: { rules: rules.map((message) => ({ message, verified: !broken.includes(message) })), verified: false },
        policy: rules.map((r) => `* ${r}`).join('\n'),
        statusCode: 400,
      }),
      'password_policy',
      email,
    );
  }

  // Suspicious-IP throttling, "pre-user-registration" stage (Auth0: 50 signups per IP, one more every 1.2 s).
  const throttling = suspiciousIpThrottlingOf(ctx.config);
  const stage = throttling.stage['pre-user-registration'];
  if (throttling.enabled && !isAllowlisted(throttling.allowlist, ctx.ip)) {
    const limit: RateLimit = { intervalMs: stage.rate, burst: stage.max_attempts };
    const taken = await deps.rateLimits.take({ pk: `TENANT#${ctx.tenant}#RATE#signup#${ctx.ip ?? 'unknown'}`, sk: 'RATE' }, limit, deps.now());
    if (!taken.allowed) {
      ctx.log.add({ type: 'limit_mu', client_id: client.client_id, connection: connection.name, connection_id: connection.id, user_name: email, reason: 'pre_user_registration' });
      return fail(dbError(429, 'too_many_attempts', 'We have detected suspicious signup attempts and have blocked further attempts from your IP address.'), 'ip_limited', email);
    }
  }

  if (connection.options.import_mode) {
    if (!upstreamLookupConfigured(connection)) return fail(dbError(400, 'operation_not_allowed', IMPORT_MODE_SIGNUP_REFUSED), 'import_mode_without_lookup', email);
    const upstream = await findUpstreamUserByEmail(deps, ctx, connection, email);
    if (upstream.kind === 'found') return fail(dbError(400, 'user_exists', 'The user already exists.'), 'exists_upstream', email);
    if (upstream.kind !== 'none') {
      // Unknown whether the upstream has this email: never risk a second identity.
      const retryAfter: Record<string, string> = upstream.kind === 'failed' && upstream.retryAfterSeconds ? { 'retry-after': String(upstream.retryAfterSeconds) } : {};
      const body = { name: 'ServiceUnavailableError', code: 'temporarily_unavailable', description: 'Sign up is not available right now. Try again later.', statusCode: 503 };
      return fail(json(503, body, retryAfter), 'upstream_lookup_failed', email);
    }
  }

  let outcome;
  try {
    outcome = await createUser(deps, { tenant: ctx.tenant, connection, profile, password, arrival: { via: 'signup' } });
  } catch (err) {
    if (err instanceof RegistrationDeniedError) return fail(dbError(400, 'invalid_signup', err.userMessage), err.reason, email);
    throw err;
  }
  if (outcome.outcome !== 'created') return fail(dbError(400, 'user_exists', 'The user already exists.'), 'exists', email);
  const user = outcome.user;
  ctx.log.add({ type: 'ss', client_id: client.client_id, client_name: client.name, connection: connection.name, connection_id: connection.id, user_id: user.user_id, user_name: email });
  // The connection asks for a verification e-mail on signup (a failure is logged `fv`, the signup stands).
  if (connection.options.verify_email_on_signup === true) await sendVerificationEmail(deps, ctx, user, client.client_id);
  await ctx.log.flush();
  return json(200, {
    _id: user.user_id.replace(/^auth0\|/, ''),
    email_verified: user.email_verified,
    email: user.email,
    ...(user.username ? { username: user.username } : {}),
    ...(user.given_name ? { given_name: user.given_name } : {}),
    ...(user.family_name ? { family_name: user.family_name } : {}),
    ...(user.name ? { name: user.name } : {}),
    ...(user.nickname ? { nickname: user.nickname } : {}),
    ...(user.picture ? { picture: user.picture } : {}),
    ...(Object.keys(user.user_metadata ?? {}).length ? { user_metadata: user.user_metadata } : {}),
  });
}
