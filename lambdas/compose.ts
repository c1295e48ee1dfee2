import type { Deps } from './deps.js';
import { registrationHooks } from './identity/registration-hooks.js';
import { createPasswordFallback } from './migration/password-fallback.js';
import { createRefreshRemint } from './migration/refresh-remint.js';

/**
 * The composition root shared by the Lambda entries and the local server: attaches the
 * pluggable flows (password fallback, refresh re-mint, registration hooks) to the core deps,
 * so AWS and `npm start` run exactly the same code paths.
 */
export function withMigrationFlows(deps: Deps): Deps {
  deps.passwordFallback = createPasswordFallback();
  deps.foreignRefreshToken = createRefreshRemint(deps);
  deps.registrationHooks = registrationHooks;
  return deps;
}
