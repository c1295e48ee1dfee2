import type { Deps } from './deps.js';
import type { TenantContext } from './http/tenant-context.js';
import type { LocalLookup, PasswordLoginInput } from './ports.js';
import { postLoginFromConfig } from './extensions/post-login-setup.js';
import { registrationHooks } from './identity/registration-hooks.js';
import { createPasswordFallback } from './migration/password-fallback.js';
import { createRefreshRemint } from './migration/refresh-remint.js';

/**
 * The composition roots, one per Lambda function: each returns a new, complete `Deps` built
 * once per process from the core deps (`createDeps`), never changing it afterwards. The
 * pluggable flows are bound to the composition they belong to, so a flow that creates a user
 * runs that composition's registration hooks. AWS and `npm start` build them the same way.
 */

/**
 * What a function adds to its composition besides its flows (the management function's jobs).
 * Each part is built once, while the composition is: a builder is handed `deps` to keep for
 * later (a runner's closure), never to call at once.
 */
export interface CompositionParts {
  jobs?: (deps: () => Deps) => Deps['jobs'];
  jobQueue?: (deps: () => Deps) => Deps['jobQueue'];
}

function partsOf(deps: () => Deps, parts: CompositionParts): Pick<Deps, 'jobs' | 'jobQueue'> {
  const jobs = parts.jobs?.(deps);
  const jobQueue = parts.jobQueue?.(deps);
  return { ...(jobs ? { jobs } : {}), ...(jobQueue ? { jobQueue } : {}) };
}

/** The management function: registration hooks (every path that creates a user runs them) and its jobs. */
export function withRegistrationHooks(core: Deps, parts: CompositionParts = {}): Deps {
  const deps: Deps = { ...core, registrationHooks: hooksOf(() => deps), ...partsOf(() => deps, parts) };
  return deps;
}

/** The registration hooks, run with the composition `deps()` returns once it is built. */
const hooksOf = (deps: () => Deps): NonNullable<Deps['registrationHooks']> => ({
  pre: (tenant, user) => registrationHooks.pre(deps(), tenant, user),
  post: (tenant, user) => registrationHooks.post(deps(), tenant, user),
});

/** The token function: registration hooks, password fallback, refresh re-mint, the post-login extension. */
export function withMigrationFlows(core: Deps, parts: CompositionParts = {}): Deps {
  const passwordFallback = createPasswordFallback();
  const remint = createRefreshRemint(core);
  const deps: Deps = {
    ...core,
    registrationHooks: hooksOf(() => deps),
    passwordFallback: Object.assign((ctx: TenantContext, input: PasswordLoginInput, local: LocalLookup) => passwordFallback(deps, ctx, input, local), {
      deferral: (ctx: TenantContext, input: PasswordLoginInput, ipFailures: number) => passwordFallback.deferral(deps, ctx, input, ipFailures),
    }),
    foreignRefreshToken: (ctx, p) => remint(deps, ctx, p),
    postLogin: core.postLogin ?? postLoginFromConfig(core.config.postLogin),
    ...partsOf(() => deps, parts),
  };
  return deps;
}
