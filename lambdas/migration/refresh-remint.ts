/**
 * Refresh-token re-mint: a refresh token this service did not issue is redeemed at the tenant's
 * enabled migration sources (concurrently, first to accept wins), the upstream user is resolved
 * or created locally (user_id = upstream `sub`, through `createUser` and its hooks), and fresh
 * local tokens are returned on the ordinary refresh response.
 *
 * The upstream token is redeemed once (the ledger's lease is taken before the upstream call);
 * a passing upstream failure is a retryable error, never `invalid_grant`; once the upstream has
 * accepted the token its answer is kept sealed until the local tokens are written, so the
 * client's retry completes without calling the upstream token endpoint again.
 */
import type { Deps } from '../deps.js';
import type { ForeignRefreshToken } from '../ports.js';
import type { TenantContext } from '../http/tenant-context.js';
import { abandonLookUp, createUser, startLookUp, upstreamHostOf, type CreateUserDeps, type EarlyLookUp } from '../identity/create-user.js';
import { RegistrationDeniedError } from '../identity/registration-hooks.js';
import type { AuthEvent } from '../logs/request-writes.js';
import { OAuthError, oauthErrors } from '../oauth/errors.js';
import { assignRolesOrLog, readWholeUpstreamUser } from './whole-upstream-user.js';
import { grantableScope, issueUserTokens, resolveAudience, type IssueTokensDeps, type TokenResponse } from '../oauth/issue-tokens.js';
import { narrowScope } from '../oauth/refresh-token-grant.js';
import type { ClientRecord, MigrationSourceRecord, UserRecord } from '../store/records.js';
import { connectionByName } from '../store/tenant-config-repository.js';
import { isSocialIdentity, socialConnectionOfUserId } from '../social/social-strategies.js';
import type { Lease, UpstreamTokenRecord } from '../store/upstream-token-repository.js';
import { createDeadline, type Deadline } from './deadline.js';
import { createSourceSecrets, enabledMigrationSources, type SourceSecrets } from './migration-sources.js';
import { prepareRedemption, redeemAtSources } from './redeem-at-sources.js';
import { sourcesBoundToClient } from './remint-client-binding.js';
import { remintShedding } from './remint-shedding.js';
import { answerRemintReplay } from './remint-replay.js';
import { createUpstreamAnswerSealer, type UpstreamAnswerSealer } from './sealed-upstream-answer.js';
import { claimsFromUpstream, unverifiedIdTokenClaims } from './upstream-claims.js';
import type { UpstreamTokenResponse } from './upstream-client.js';
import { createUpstreamIdTokenVerifier, type UpstreamIdTokenVerifier } from './upstream-id-token.js';
import { profileFromUpstream } from './upstream-profile.js';
import { createUpstreamTokenLedger, type TransientFailure, type UpstreamTokenLedger } from './upstream-token-ledger.js';
import { newId } from '../tokens/refresh-token-format.js';

/** Auth0's refresh tokens are well under 1 KB and use this alphabet; anything else is junk. */
const UPSTREAM_TOKEN_SHAPE = /^[A-Za-z0-9._~+/=-]{1,1024}$/;
/** The lease outlives the token Lambda's timeout, so a live owner is never taken over. */
const LEASE_BEYOND_BUDGET_MS = 10_500;

export interface RemintTools {
  verifier: UpstreamIdTokenVerifier;
  secrets: SourceSecrets;
  sealer: UpstreamAnswerSealer;
}

/**
 * What a re-mint uses: the ledger's table, the upstream (client, budget, Management API, secrets),
 * user creation, token issuance and the migration counters.
 */
export type RemintDeps = Pick<Deps, 'storeLatency' | 'upstreamTokens' | 'config' | 'sink' | 'upstream' | 'upstreamBudget' | 'upstreamManagement' | 'secrets' | 'migrationCounters'> &
  CreateUserDeps &
  IssueTokensDeps;

/** The `ForeignRefreshToken` port before its composition binds it to its deps. */
export type RefreshRemintFlow = (deps: RemintDeps, ...args: Parameters<ForeignRefreshToken>) => ReturnType<ForeignRefreshToken>;

/** The re-mint, with its per-process caches (JWKS, secrets, keys). */
export function createRefreshRemint(deps: Pick<Deps, 'fetch' | 'now' | 'config' | 'secrets'>): RefreshRemintFlow {
  const tools: RemintTools = {
    verifier: createUpstreamIdTokenVerifier({ fetch: deps.fetch, now: deps.now, allowLoopbackHttp: deps.config.allowLoopbackHttp }),
    secrets: createSourceSecrets({ secrets: deps.secrets, now: deps.now, maxAgeMs: deps.config.configCacheMs }),
    sealer: createUpstreamAnswerSealer(deps.secrets),
  };
  return (d, ctx, p) => remintFromUpstream(d, ctx, p, tools);
}

export function couldBeUpstreamRefreshToken(token: string): boolean {
  return UPSTREAM_TOKEN_SHAPE.test(token) && !token.startsWith('r1.');
}

/** A failure that ends the re-mint: logged as `fertft` with its reason, answered with `error`. */
class RemintStop extends Error {
  constructor(
    readonly reason: string,
    readonly error: OAuthError,
    readonly event: Partial<AuthEvent> = {},
  ) {
    super(reason);
  }
}

const retryable = (f: TransientFailure): OAuthError =>
  f.kind === 'rate_limited' ? oauthErrors.tooManyRequests(f.retry_after ?? 1) : oauthErrors.temporarilyUnavailable(f.retry_after);

export async function remintFromUpstream(
  deps: RemintDeps,
  ctx: TenantContext,
  p: { client: ClientRecord; refreshToken: string; scope?: string },
  tools: RemintTools,
): Promise<TokenResponse | undefined> {
  const clientEvent = { client_id: p.client.client_id, client_name: p.client.name };
  const event = { ...clientEvent, migration: 'refresh_remint' as const };
  const stop = async (s: RemintStop): Promise<never> => {
    ctx.log.add({ ...event, ...s.event, type: 'fertft', reason: s.reason });
    await ctx.log.flush().catch(() => {});
    throw s.error;
  };

  if (!couldBeUpstreamRefreshToken(p.refreshToken)) {
    ctx.log.add({ ...clientEvent, type: 'fertft', reason: 'malformed_refresh_token' });
    await ctx.log.flush();
    throw oauthErrors.invalidRefreshToken();
  }
  const enabled = enabledMigrationSources(ctx.config);
  if (enabled.length === 0) return undefined;
  // Bound to its client before anything is written or sent upstream.
  const sources = sourcesBoundToClient(ctx.config, p.client, enabled);
  if (sources.length === 0) return stop(new RemintStop('client_not_bound_to_source', oauthErrors.invalidRefreshToken()));

  // The store is overloaded: this re-mint can wait, and turning it away now writes nothing.
  const shed = remintShedding(deps.storeLatency, deps.config.shedRemintsAboveStoreMs);
  if (shed) {
    deps.sink.warn('store_overloaded', { shed: 'refresh_remint', store_mean_ms: shed.storeMeanMs, retry_after_seconds: shed.retryAfterSeconds });
    throw oauthErrors.temporarilyUnavailable(shed.retryAfterSeconds);
  }

  const deadline = createDeadline(deps.config.upstreamBudgetMs, deps.now);
  const ledger = createUpstreamTokenLedger(deps, {
    tenant: ctx.tenant,
    token: p.refreshToken,
    leaseMs: deps.config.upstreamBudgetMs + LEASE_BEYOND_BUDGET_MS,
  });
  // The upstream calls' budget is leased while the token's record is claimed (not after it).
  prepareRedemption(deps, { tenant: ctx.tenant, sources });
  const claim = await ledger.claim(sources.map((s) => s.id), deadline);
  switch (claim.kind) {
    case 'busy':
      return stop(new RemintStop('redemption_in_progress', oauthErrors.temporarilyUnavailable(1)));
    case 'minted':
      return answerRemintReplay(deps, ctx, { client: p.client, scope: p.scope, record: claim.record, waited: claim.waited, baseEvent: clientEvent });
    case 'rejected':
      return stop(new RemintStop('rejected_by_all_sources', oauthErrors.invalidRefreshToken(), { details: { recently: true } }));
    case 'transient': {
      // Too early: told to come back when it was told to (its place in the queue, if it has one).
      const failure = claim.record.failure ?? { kind: 'unavailable', reason: 'unknown' };
      const leftMs = (claim.record.retry_at ?? 0) - deps.now();
      const retryAfter = leftMs > 0 ? Math.max(1, Math.ceil(leftMs / 1000)) : failure.retry_after;
      return stop(new RemintStop(failure.reason, retryable({ ...failure, retry_after: retryAfter }), { details: { concurrent: true } }));
    }
    case 'owner':
      return completeAsOwner(deps, ctx, { ...p, sources, deadline, ledger, lease: claim.lease, record: claim.record, booked: claim.booked, tools, event, stop });
  }
}

async function completeAsOwner(
  deps: RemintDeps,
  ctx: TenantContext,
  p: {
    client: ClientRecord;
    scope?: string;
    refreshToken: string;
    sources: MigrationSourceRecord[];
    deadline: Deadline;
    ledger: UpstreamTokenLedger;
    lease: Lease;
    record: UpstreamTokenRecord;
    /** Its turn in the budget's queue has come: served before newcomers. */
    booked?: boolean;
    tools: RemintTools;
    event: Partial<AuthEvent>;
    stop: (s: RemintStop) => Promise<never>;
  },
): Promise<TokenResponse> {
  const { ledger, lease, tools } = p;
  let source: MigrationSourceRecord | undefined;
  let answer: UpstreamTokenResponse | undefined;
  let saved: Promise<unknown> = Promise.resolve();

  if (p.record.status === 'redeemed') {
    // Resume: the upstream accepted this token before; its answer is in the sealed record.
    source = ctx.config.migrationSources.find((s) => s.id === p.record.source_id);
    answer = p.record.sealed_answer ? await tools.sealer.open(ctx.tenant, ledger.boundTo, p.record.sealed_answer) : undefined;
    if (p.record.client_id !== p.client.client_id) {
      await ledger.release(lease).catch(() => {});
      return p.stop(new RemintStop('client_mismatch', oauthErrors.invalidRefreshToken()));
    }
    if (!source || !answer) {
      await ledger.markRejected(lease, []).catch(() => {});
      return p.stop(new RemintStop(source ? 'upstream_answer_unreadable' : 'migration_source_removed', oauthErrors.invalidRefreshToken()));
    }
  } else {
    const redemption = await redeemAtSources(deps, {
      tenant: ctx.tenant,
      sources: p.sources,
      refreshToken: p.refreshToken,
      deadline: p.deadline,
      secrets: tools.secrets,
      booked: p.booked,
    });
    if (redemption.kind === 'rejected') {
      await ledger.markRejected(lease, p.sources.map((s) => s.id)).catch(() => {});
      return p.stop(new RemintStop('rejected_by_all_sources', oauthErrors.invalidRefreshToken(), { details: { sources: redemption.reasons } }));
    }
    if (redemption.kind === 'transient') {
      await ledger.markTransient(lease, redemption.failure).catch(() => {});
      return p.stop(new RemintStop(redemption.failure.reason, retryable(redemption.failure), { details: { sources: redemption.reasons } }));
    }
    source = redemption.source;
    answer = redemption.answer;
  }
  // The user the upstream's id_token names is looked up (its free identifiers claimed) while
  // that token is verified or /userinfo answers.
  const lookedUp = lookUpFromIdToken(deps, ctx, source, answer);
  if (p.record.status !== 'redeemed') {
    const redeemedFrom = source.id;
    const redeemedAnswer = answer;
    // Kept before anything else can fail, while the profile is being fetched.
    saved = tools.sealer
      .seal(ctx.tenant, ledger.boundTo, redeemedAnswer)
      .then((sealedAnswer) => ledger.markRedeemed(lease, { sourceId: redeemedFrom, sealedAnswer, clientId: p.client.client_id }))
      .catch(() => false);
  }

  try {
    return await mintForUpstreamUser(deps, ctx, { ...p, source, answer, saved, lookedUp });
  } catch (err) {
    // Claims the early look-up took and nothing used go back.
    await Promise.all([saved, abandonLookUp(deps, lookedUp)]);
    await ledger.release(lease).catch(() => {});
    if (err instanceof RemintStop) return p.stop(err);
    if (err instanceof OAuthError) return p.stop(new RemintStop(err.error, err));
    if (err instanceof RegistrationDeniedError) {
      // A hook's "no" is an answer; a hook that could not be asked may say yes on the retry.
      const answer = err.reason === 'denied_by_hook' ? oauthErrors.invalidRefreshToken() : oauthErrors.temporarilyUnavailable();
      return p.stop(new RemintStop(err.reason, answer, { details: { hook_id: err.hookId } }));
    }
    deps.sink.error('refresh_remint_error', { error_name: (err as Error)?.name, error_message: String((err as Error)?.message).slice(0, 300) });
    return p.stop(new RemintStop('internal_error', oauthErrors.temporarilyUnavailable()));
  }
}

/**
 * Starts the look-up of the user the upstream's id_token names, before that token is verified
 * (the upstream sent it in its own answer): only a head start, used by `createUser` if the
 * profile it gets names the same user and identifiers.
 */
function lookUpFromIdToken(deps: RemintDeps, ctx: TenantContext, source: MigrationSourceRecord, answer: UpstreamTokenResponse): EarlyLookUp | undefined {
  const named = unverifiedIdTokenClaims(answer);
  if (!named) return undefined;
  const connection = socialConnectionOfUserId(ctx.config.connections.values(), named.sub) ?? connectionByName(ctx.config, source.connection);
  return connection ? startLookUp(deps, { tenant: ctx.tenant, connection, profile: profileFromUpstream(named) }) : undefined;
}

async function mintForUpstreamUser(
  deps: RemintDeps,
  ctx: TenantContext,
  p: {
    client: ClientRecord;
    scope?: string;
    source: MigrationSourceRecord;
    answer: UpstreamTokenResponse;
    saved: Promise<unknown>;
    lookedUp?: EarlyLookUp;
    deadline: Deadline;
    ledger: UpstreamTokenLedger;
    lease: Lease;
    tools: RemintTools;
    event: Partial<AuthEvent>;
  },
): Promise<TokenResponse> {
  const { source, answer } = p;
  const sourceDetail = { migration_source: source.id };
  const claims = await claimsFromUpstream(deps, { tenant: ctx.tenant, source, answer, deadline: p.deadline, verifier: p.tools.verifier });
  if (!claims.ok) throw new RemintStop(claims.failure.reason, retryable(claims.failure), { details: sourceDetail });

  // A social user (`google-oauth2|…`) belongs to its provider's connection when the tenant has it.
  const social = socialConnectionOfUserId(ctx.config.connections.values(), claims.claims.sub);
  // The source's connection holds the upstream's Management API credentials.
  const upstreamConnection = connectionByName(ctx.config, source.connection);
  const connection = social ?? upstreamConnection;
  if (!connection || !upstreamConnection) throw new RemintStop('connection_not_found', oauthErrors.temporarilyUnavailable(), { details: sourceDetail });
  const whole = await readWholeUpstreamUser(deps, ctx, upstreamConnection, claims.claims.sub, p.deadline);
  if (whole.kind === 'failed') {
    // Transient: the client retries, and the kept upstream answer completes the migration then.
    const f = whole.failure;
    const answer = f?.kind === 'rate_limited' ? oauthErrors.tooManyRequests(f.retryAfterSeconds) : oauthErrors.temporarilyUnavailable(f?.kind === 'unavailable' ? f.retryAfterSeconds : undefined);
    throw new RemintStop(whole.reason, answer, { details: sourceDetail });
  }
  const profile = { ...profileFromUpstream(claims.claims), ...(whole.kind === 'ok' ? whole.extra : {}) };
  const issue = async (user: UserRecord) => {
    const audience = resolveAudience(ctx, undefined);
    const upstreamScope = answer.scope ?? (answer.id_token ? 'openid profile email offline_access' : 'offline_access');
    const granted = grantableScope(ctx, upstreamScope, audience);
    // The client must be able to refresh again here: the upstream token it held is spent.
    const refreshScope = granted.split(' ').includes('offline_access') ? granted : `${granted} offline_access`.trim();
    const refreshTokenId = newId();
    const issued = await issueUserTokens(deps, ctx, {
      client: p.client,
      user,
      scope: narrowScope(granted, p.scope),
      refreshTokenScope: refreshScope,
      audience,
      grantType: 'refresh_token',
      migration: 'refresh_remint',
      refreshTokenId,
    });
    return { issued, audience, granted, refreshScope, refreshTokenId };
  };
  // A new user's tokens are signed while its record is being written, when issuing them has no
  // effect of its own (no post-login extension to run) and nothing changes the user after the
  // write (no upstream roles to assign). They are used only if that very record was written.
  let early: { user: UserRecord; issuing: ReturnType<typeof issue> } | undefined;
  const signEarly = !deps.postLogin && !(whole.kind === 'ok' && whole.roleNames.length > 0);
  const created = await createUser(deps, {
    tenant: ctx.tenant,
    connection,
    profile,
    upstream: upstreamHostOf(source.credentials.domain),
    isSocial: social ? isSocialIdentity(social.strategy) : undefined,
    arrival: { via: 'refresh_remint', source: source.id },
    lookedUp: p.lookedUp,
    ...(signEarly
      ? {
          whileWriting: (user: UserRecord) => {
            early = { user, issuing: issue(user) };
            early.issuing.catch(() => {}); // unused unless the write succeeds; then awaited below
          },
        }
      : {}),
  });
  if (created.outcome === 'created' && whole.kind === 'ok') await assignRolesOrLog(deps, ctx, created.user, whole.roleNames);
  const userEvent = { user_id: claims.claims.sub, connection: connection.name, connection_id: connection.id, strategy: connection.strategy };
  if (created.outcome === 'upstream_mismatch') {
    // The same `sub` at another upstream is another person: never served as the existing user.
    throw new RemintStop('upstream_mismatch', oauthErrors.invalidRefreshToken(), { ...userEvent, details: { ...sourceDetail, recorded_upstream: created.recorded } });
  }
  if (created.outcome === 'identifier_taken') {
    // Accounts are never merged by email: an ordinary failure, the answer stays kept for a fix.
    throw new RemintStop(`${created.field}_taken`, oauthErrors.invalidRefreshToken(), { ...userEvent, details: sourceDetail });
  }
  const user = created.user;
  if (user.blocked) throw new RemintStop('user_blocked', oauthErrors.userBlockedOnRefresh(), { ...userEvent, details: sourceDetail });

  const { issued, audience, granted, refreshScope, refreshTokenId } =
    created.outcome === 'created' && early?.user === user ? await early.issuing : await issue(user);
  const minted = p.ledger.mintedItem(p.lease, {
    source_id: source.id,
    client_id: p.client.client_id,
    user_id: user.user_id,
    family_id: issued.familyId,
    refresh_token_id: refreshTokenId,
    family_absolute_exp: issued.familyAbsoluteExp,
    scope: granted,
    refresh_scope: refreshScope,
    audience,
  });
  // The migration is counted with its attempt's count (one counter write).
  const logged = ctx.log.add(
    {
      ...p.event,
      ...userEvent,
      type: 'sertft',
      user_name: user.email,
      details: { ...sourceDetail, profile_from: claims.via, user_created: created.outcome === 'created' },
    },
    { countsMigration: true },
  );
  // The sealed answer must be on record before the final record replaces it.
  await p.saved;
  const day = new Date(deps.now()).toISOString().slice(0, 10);
  await Promise.all([
    ctx.log.flush([...issued.items, minted]),
    logged.migrationCounted ? undefined : deps.migrationCounters.increment(ctx.tenant, day, 'refresh_remint').catch(() => {}),
  ]);
  return issued.response;
}
