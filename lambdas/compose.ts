import type { Deps } from './deps.js';
import { createRefreshRemint } from './migration/refresh-remint.js';

/**
 * The composition root shared by the Lambda entries and the local server: attaches the
 * pluggable flows (password fallback, refresh re-mint, registration hooks) to the core deps,
 * so AWS and `npm start` run exactly the same code paths.
 */
export function withMigrationFlows(deps: Deps): Deps {
  deps.foreignRefreshToken = createRefreshRemint(deps);
  return deps;
}
