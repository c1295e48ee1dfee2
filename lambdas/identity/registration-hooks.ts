import { createHmac } from 'node:crypto';
import * as z from 'zod/mini';
import type { Deps } from '../deps.js';
import { isLoopbackHttpAllowed } from '../migration/upstream-client.js';
import type { HookRecord, UserRecord } from '../store/records.js';

/**
 * A pre-user-registration hook refused the creation (or could not be asked: pre hooks fail
 * closed). `reason` is for logs; `userMessage` is what a caller may show.
 */
export class RegistrationDeniedError extends Error {
  constructor(
    readonly reason: 'denied_by_hook' | 'hook_failed',
    readonly userMessage: string,
    readonly hookId: string,
  ) {
    super(`registration denied: ${reason}`);
    this.name = 'RegistrationDeniedError';
  }
}

export const HOOK_SIGNATURE_HEADER = 'x-hook-signature';
const MAX_RESPONSE_BYTES = 64 * 1024;

/** What a pre hook answers: allow or deny, and metadata to merge into the new user. */
const preHookAnswer = z.object({
  allow: z.boolean(),
  message: z.optional(z.string().check(z.maxLength(200))),
  app_metadata: z.optional(z.record(z.string().check(z.maxLength(255)), z.unknown())),
  user_metadata: z.optional(z.record(z.string().check(z.maxLength(255)), z.unknown())),
});

/** The signature a hook receiver checks: `sha256=<hex HMAC-SHA256 of the exact body>`. */
export function signHookBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** The user as a hook sees it: the profile, never a password or a hash. */
function hookUser(user: UserRecord) {
  const { tenant: _t, connection_id: _c, upstream_profile: _u, ...profile } = user;
  return profile;
}

type CallResult = { ok: true; body: unknown } | { ok: false; reason: string; status?: number };

/**
 * The time all hooks of one trigger may take together (`hookBudgetMs`): each call gets the
 * smaller of its own timeout and what is left, so several slow hooks cannot outlast the function.
 */
function hookBudget(deps: Pick<Deps, 'now' | 'config'>): (hook: HookRecord) => number {
  const deadline = deps.now() + deps.config.hookBudgetMs;
  return (hook) => Math.min(hook.timeout_ms, deadline - deps.now());
}

async function callHook(deps: Pick<Deps, 'config' | 'fetch' | 'now' | 'secrets'>, tenant: string, hook: HookRecord, user: UserRecord, timeoutMs = hook.timeout_ms): Promise<CallResult> {
  if (timeoutMs <= 0) return { ok: false, reason: 'budget_exhausted' };
  if (!isLoopbackHttpAllowed(hook.url, deps.config.allowLoopbackHttp)) return { ok: false, reason: 'url_not_allowed' };
  const secret = await deps.secrets.get(hook.secret_ref);
  if (!secret) return { ok: false, reason: 'secret_missing' };
  const body = JSON.stringify({
    trigger: hook.trigger,
    hook_id: hook.id,
    tenant,
    timestamp: Math.floor(deps.now() / 1000),
    user: hookUser(user),
  });
  let res: Response;
  try {
    res = await deps.fetch(hook.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [HOOK_SIGNATURE_HEADER]: signHookBody(secret, body), 'x-hook-id': hook.id },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    return { ok: false, reason: (err as Error)?.name === 'TimeoutError' ? 'timeout' : 'network_error' };
  }
  if (res.status < 200 || res.status >= 300) {
    await res.body?.cancel().catch(() => {});
    return { ok: false, reason: 'http_status', status: res.status };
  }
  try {
    const text = await res.text();
    if (Buffer.byteLength(text) > MAX_RESPONSE_BYTES) return { ok: false, reason: 'response_too_large', status: res.status };
    return { ok: true, body: text ? JSON.parse(text) : undefined };
  } catch (err) {
    return { ok: false, reason: (err as Error)?.name === 'TimeoutError' ? 'timeout' : 'malformed_response', status: res.status };
  }
}

async function hooksOf(deps: Pick<Deps, 'tenantConfigs' | 'tenantConfigCache'>, tenant: string, trigger: HookRecord['trigger']): Promise<HookRecord[]> {
  const config = await deps.tenantConfigCache.get(tenant, deps.tenantConfigs.load);
  return (config?.hooks ?? [])
    .filter((h) => h.enabled && h.trigger === trigger)
    .sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
}

export type RegistrationHookDeps = Pick<Deps, 'config' | 'fetch' | 'now' | 'secrets' | 'sink' | 'tenantConfigs' | 'tenantConfigCache'>;

/**
 * The registration hooks every user creation runs (`createUser`). Pre hooks run in creation
 * order, each seeing the metadata the previous ones set, all within one time budget; one that denies, fails, times out or
 * answers nonsense stops the creation (fail closed). Post hooks run together after the user
 * exists; their failures are logged and never fail the creation. Requests are signed with
 * the hook's secret (HMAC-SHA256 of the body in `x-hook-signature`).
 */
/** The hook runner; a composition binds it to its deps (`RegistrationHooks` of ../ports.ts). */
export interface RegistrationHookRunner {
  pre(deps: RegistrationHookDeps, tenant: string, user: UserRecord): Promise<Partial<Pick<UserRecord, 'app_metadata' | 'user_metadata'>> | void>;
  post(deps: RegistrationHookDeps, tenant: string, user: UserRecord): Promise<void>;
}

export const registrationHooks: RegistrationHookRunner = {
  async pre(deps, tenant, user) {
    const hooks = await hooksOf(deps, tenant, 'pre-user-registration');
    if (hooks.length === 0) return undefined;
    const app_metadata = { ...user.app_metadata };
    const user_metadata = { ...user.user_metadata };
    const timeoutOf = hookBudget(deps);
    for (const hook of hooks) {
      const result = await callHook(deps, tenant, hook, { ...user, app_metadata, user_metadata }, timeoutOf(hook));
      const answer = result.ok ? preHookAnswer.safeParse(result.body) : undefined;
      if (!result.ok || !answer?.success) {
        const reason = result.ok ? 'malformed_response' : result.reason;
        deps.sink.warn('registration_hook_failed', { tenant, hook_id: hook.id, trigger: hook.trigger, reason, status: result.ok ? undefined : result.status, user_id: user.user_id });
        throw new RegistrationDeniedError('hook_failed', 'The user could not be created.', hook.id);
      }
      if (!answer.data.allow) {
        deps.sink.info('registration_denied', { tenant, hook_id: hook.id, user_id: user.user_id });
        throw new RegistrationDeniedError('denied_by_hook', answer.data.message ?? 'The registration was denied.', hook.id);
      }
      Object.assign(app_metadata, answer.data.app_metadata);
      Object.assign(user_metadata, answer.data.user_metadata);
    }
    return { app_metadata, user_metadata };
  },

  async post(deps, tenant, user) {
    let hooks: HookRecord[];
    try {
      hooks = await hooksOf(deps, tenant, 'post-user-registration');
    } catch (err) {
      deps.sink.warn('registration_hook_failed', { tenant, trigger: 'post-user-registration', reason: 'config_unavailable', user_id: user.user_id });
      return;
    }
    const timeoutOf = hookBudget(deps);
    await Promise.all(
      hooks.map(async (hook) => {
        const result = await callHook(deps, tenant, hook, user, timeoutOf(hook)).catch(() => ({ ok: false as const, reason: 'error', status: undefined }));
        if (!result.ok) {
          deps.sink.warn('registration_hook_failed', { tenant, hook_id: hook.id, trigger: hook.trigger, reason: result.reason, status: result.status, user_id: user.user_id });
        }
      }),
    );
  },
};
