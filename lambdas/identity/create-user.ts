import { randomBytes } from 'node:crypto';
import type { Deps } from '../deps.js';
import type { ConnectionRecord, UserArrival, UserRecord } from '../store/records.js';
import type { CreateUserOutcome, EarlyClaims } from '../store/users-repository.js';
import { hashPassword } from './passwords.js';

/** The profile a new user starts with: the user's own fields, all optional. */
export type NewUserProfile = Partial<
  Pick<
    UserRecord,
    | 'email'
    | 'email_verified'
    | 'username'
    | 'name'
    | 'nickname'
    | 'given_name'
    | 'family_name'
    | 'picture'
    | 'phone_number'
    | 'app_metadata'
    | 'user_metadata'
    | 'upstream_profile'
    | 'blocked'
  >
> & {
  /** Keep an existing id (e.g. the upstream `sub`, `auth0|abc…`); generated when absent. */
  user_id?: string;
};

export function newDatabaseUserId(): string {
  return `auth0|${randomBytes(12).toString('hex')}`;
}

/** An existing user came from another upstream: the migration must not be served as that user. */
export interface UpstreamMismatch {
  outcome: 'upstream_mismatch';
  /** The upstream on record for the existing user. */
  recorded: string;
}

/** The host that identifies an upstream Auth0 tenant (`old-tenant.eu.auth0.com`, `127.0.0.1:4000`). */
export function upstreamHostOf(urlOrDomain: string): string {
  const text = urlOrDomain.trim();
  try {
    return new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`).host.toLowerCase();
  } catch {
    return text.toLowerCase();
  }
}

export type { RegistrationHooks } from '../ports.js';

export interface CreateUserParams {
  tenant: string;
  connection: ConnectionRecord;
  profile: NewUserProfile;
  password?: string;
  /** A bcrypt hash computed beforehand (overlapping other work), instead of `password`. */
  passwordHash?: Promise<string> | string;
  /** The upstream the profile came from (`upstreamHostOf`): a user of another upstream is never this one. */
  upstream?: string;
  /** The identity comes from a social provider (Auth0's `identities[].isSocial`). */
  isSocial?: boolean;
  /** How the user arrives (recorded on the user with the time; shown as `arrival`). */
  arrival?: Omit<UserArrival, 'at'>;
  /**
   * Called with a new user's record as its write starts, so that the caller can prepare what it
   * needs of it meanwhile (a re-mint signs its tokens). The record is the one `created` returns
   * if the write succeeds; any other outcome means it was not written.
   */
  whileWriting?: (user: UserRecord) => void;
  /**
   * The look-up of this user started earlier (`startLookUp`) from a profile that may not be the
   * final one; used if it was for the same user_id and identifiers, else its claims go back first.
   */
  lookedUp?: EarlyLookUp;
}

/** A user's look-up (and the claims of its free identifiers) started before its profile is final. */
export interface EarlyLookUp {
  /** The record it was started for: only its user_id and identifiers count. */
  readonly user: UserRecord;
  readonly result: Promise<{ existing?: UserRecord; claims: EarlyClaims }>;
  /** Taken over by `createUser`, which then gives back what it does not use. */
  used: boolean;
}

/**
 * Starts a user's look-up, claiming its free identifiers, while the caller still waits for the
 * profile that `createUser` will get (a re-mint starts it from the upstream's id_token while
 * /userinfo answers, or while the id_token is verified). Unless `createUser` takes it over, the
 * caller must `abandonLookUp` it.
 */
export function startLookUp(deps: Pick<CreateUserDeps, 'now' | 'users'>, p: Pick<CreateUserParams, 'tenant' | 'connection' | 'profile'>): EarlyLookUp {
  const user = newUserRecord(deps, p);
  const result = deps.users.lookUpClaiming(user);
  result.catch(() => {}); // awaited by whoever takes it
  return { user, result, used: false };
}

/** Gives back the claims of an early look-up nobody took over (nothing is left behind). */
export async function abandonLookUp(deps: Pick<CreateUserDeps, 'users'>, early: EarlyLookUp | undefined): Promise<void> {
  if (!early || early.used) return;
  early.used = true;
  const { claims } = await early.result.catch(() => ({ claims: undefined }));
  if (claims && claims.taken.length > 0) await deps.users.giveBackClaims(claims).catch(() => {});
}

const sameIdentifiers = (a: UserRecord, b: UserRecord) =>
  a.user_id === b.user_id && a.tenant === b.tenant && a.connection_id === b.connection_id && a.email === b.email && a.username === b.username;

/** The look-up of `user`: the early one if it was for the same identifiers, else a new one (after the early one's claims went back). */
async function lookUp(deps: Pick<CreateUserDeps, 'users'>, user: UserRecord, early: EarlyLookUp | undefined) {
  if (early && !early.used && sameIdentifiers(early.user, user)) {
    early.used = true;
    return early.result;
  }
  // Its claims would stand in this look-up's way (the same email for another user_id, say).
  await abandonLookUp(deps, early);
  return deps.users.lookUpClaiming(user);
}

/**
 * The one function every path that creates a user goes through (Management API, password
 * fallback, refresh re-mint, bulk import, signup). Idempotent by `user_id`: a user that
 * already exists is returned as `exists` and gets the password only when it had none, unless
 * it came from another `upstream` (`upstream_mismatch`). Without `upstream` no mismatch is answered.
 */
/** What creating a user uses. */
export type CreateUserDeps = Pick<Deps, 'now' | 'config' | 'sink' | 'users' | 'registrationHooks'>;

export async function createUser(deps: CreateUserDeps, p: CreateUserParams & { upstream?: undefined }): Promise<CreateUserOutcome>;
export async function createUser(deps: CreateUserDeps, p: CreateUserParams): Promise<CreateUserOutcome | UpstreamMismatch>;
export async function createUser(deps: CreateUserDeps, p: CreateUserParams): Promise<CreateUserOutcome | UpstreamMismatch> {
  const user = newUserRecord(deps, p);
  const userId = user.user_id;
  const at = user.created_at;
  const hash = p.passwordHash ?? (p.password !== undefined ? hashPassword(p.password, deps.config.bcryptCost) : undefined);
  // The look-up claims a new user's free identifiers in the same round trip; claims the user
  // turns out not to need are given back below.
  const { existing, claims } = await lookUp(deps, user, p.lookedUp);
  if (existing) {
    if (p.upstream && existing.upstream !== p.upstream) {
      // Two upstreams may hand out the same `sub`: the first one on record keeps it.
      const recorded = existing.upstream ?? (await deps.users.recordUpstream(p.tenant, userId, p.upstream));
      if (recorded && recorded !== p.upstream) {
        if (claims.taken.length > 0) await deps.users.giveBackClaims(claims);
        return { outcome: 'upstream_mismatch', recorded };
      }
    }
    // Kept: the claims of identifiers the user lacks (added below); the others go back.
    if (claims.taken.length > 0) await deps.users.giveBackClaims(claims, existing);
    // Identifiers the user lacks (a re-mint created it without an email, say) are added, so
    // the next login with them is found locally and never goes upstream again.
    for (const field of ['email', 'username'] as const) {
      const value = p.profile[field];
      if (!value || existing[field]) continue;
      const added = await deps.users.addIdentifier(existing, field, value, at);
      if (added.ok) existing[field] = field === 'email' ? value.toLowerCase() : value;
      // Held by another local user: never merged. This user is known by its user_id and keeps
      // working; it just does not get that identifier.
      else deps.sink.warn('identifier_not_added', { tenant: p.tenant, user_id: userId, field, holder: added.holder });
    }
    if (hash !== undefined) await deps.users.putPassword(p.tenant, userId, await hash, at, { onlyIfAbsent: true });
    return { outcome: 'exists', user: existing };
  }
  const extra = await deps.registrationHooks?.pre(p.tenant, user).catch(async (err: unknown) => {
    // Denied (or the hooks could not be asked): nothing is created, the claims go back. (A write
    // that fails later keeps them: the user may have been written; a crash-left claim is repaired.)
    await deps.users.giveBackClaims(claims).catch(() => {});
    throw err;
  });
  if (extra) {
    user.app_metadata = { ...user.app_metadata, ...extra.app_metadata };
    user.user_metadata = { ...user.user_metadata, ...extra.user_metadata };
  }
  const writing = deps.users.createUser(user, claims);
  p.whileWriting?.(user);
  const outcome = await writing;
  if (outcome.outcome !== 'created' && claims.taken.length > 0) {
    await deps.users.giveBackClaims(claims, outcome.outcome === 'exists' ? outcome.user : undefined);
  }
  if (outcome.outcome === 'identifier_taken') return outcome;
  if (hash !== undefined) await deps.users.putPassword(p.tenant, userId, await hash, at, { onlyIfAbsent: true });
  if (outcome.outcome === 'created') await deps.registrationHooks?.post(p.tenant, outcome.user);
  return outcome;
}

/** The record of a user about to be created (a new `user_id` when the profile has none). */
function newUserRecord(deps: Pick<CreateUserDeps, 'now'>, p: Pick<CreateUserParams, 'tenant' | 'connection' | 'profile' | 'isSocial' | 'upstream' | 'arrival'>): UserRecord {
  const at = new Date(deps.now()).toISOString();
  const userId = p.profile.user_id ?? newDatabaseUserId();
  const [provider, ...rest] = userId.split('|');
  return {
    user_id: userId,
    tenant: p.tenant,
    connection_id: p.connection.id,
    connection: p.connection.name,
    email: p.profile.email?.toLowerCase(),
    email_verified: p.profile.email_verified ?? false,
    username: p.profile.username,
    name: p.profile.name,
    nickname: p.profile.nickname,
    given_name: p.profile.given_name,
    family_name: p.profile.family_name,
    picture: p.profile.picture,
    phone_number: p.profile.phone_number,
    identities: [{ provider: rest.length ? provider : 'auth0', user_id: rest.length ? rest.join('|') : userId, connection: p.connection.name, isSocial: p.isSocial ?? false }],
    app_metadata: p.profile.app_metadata ?? {},
    user_metadata: p.profile.user_metadata ?? {},
    upstream_profile: p.profile.upstream_profile,
    ...(p.upstream ? { upstream: p.upstream } : {}),
    blocked: p.profile.blocked,
    ...(p.arrival ? { arrival: { ...p.arrival, at } } : {}),
    created_at: at,
    updated_at: at,
    logins_count: 0,
  };
}
