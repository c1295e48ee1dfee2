import type { Deps } from './deps.js';
import { postLoginFromConfig } from './extensions/post-login-setup.js';
import { registrationHooks } from './identity/registration-hooks.js';
import { createPasswordFallback } from './migration/password-fallback.js';
import { createRefreshRemint } from './migration/refresh-remint.js';

/** Registration hooks: every path that creates a user runs them (the management function's only flow). */
export function withRegistrationHooks(deps: Deps): Deps {
  deps.registrationHooks = registrationHooks;
  return deps;
}

/**
 * The composition root of the token function and the local server: attaches the pluggable
 * flows (password fallback, refresh re-mint, registration hooks, the post-login extension) to the core deps, so AWS and
 * `npm start` run exactly the same code paths.
 */
export function withMigrationFlows(deps: Deps): Deps {
  withRegistrationHooks(deps);
  deps.passwordFallback = createPasswordFallback();
  deps.foreignRefreshToken = createRefreshRemint(deps);
  deps.postLogin ??= postLoginFromConfig(deps.config.postLogin);
  return deps;
}
