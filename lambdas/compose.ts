import type { Deps } from './deps.js';
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

/** The management function: registration hooks (every path that creates a user runs them). */
export function withRegistrationHooks(core: Deps): Deps {
  const deps: Deps = { ...core, registrationHooks: hooksOf(() => deps) };
  return deps;
}

/** The registration hooks, run with the composition `deps()` returns once it is built. */
const hooksOf = (deps: () => Deps): NonNullable<Deps['registrationHooks']> => ({
  pre: (tenant, user) => registrationHooks.pre(deps(), tenant, user),
  post: (tenant, user) => registrationHooks.post(deps(), tenant, user),
});

/** The token function: registration hooks, password fallback, refresh re-mint, the post-login extension. */
export function withMigrationFlows(core: Deps): Deps {
  const passwordFallback = createPasswordFallback();
  const remint = createRefreshRemint(core);
  const deps: Deps = {
    ...core,
    registrationHooks: hooksOf(() => deps),
    passwordFallback: (ctx, input, local) => passwordFallback(deps, ctx, input, local),
    foreignRefreshToken: (ctx, p) => remint(deps, ctx, p),
    postLogin: core.postLogin ?? postLoginFromConfig(core.config.postLogin),
  };
  return deps;
}
