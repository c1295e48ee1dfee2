/**
 * Checked by `tsc --noEmit` (part of `npm test`), never run: a Management API operation sees only
 * the dependencies it declares, and cannot be handed fewer than it declares.
 */
import type { Deps } from '../../lambdas/deps.js';
import type { ManagementEndpoint, ManagementRequest } from '../../lambdas/management/endpoint.js';
import { logEndpoints } from '../../lambdas/management/logs.js';

export const declaresTheClock: ManagementEndpoint<Pick<Deps, 'now'>> = {
  scopes: ['read:logs'],
  async run(req: ManagementRequest<Pick<Deps, 'now'>>) {
    // @ts-expect-error the users store was not declared
    void req.deps.users;
    return { statusCode: 200, headers: {}, body: String(req.deps.now()) };
  },
};

// @ts-expect-error reading the logs needs the store, not only the clock
export const givenTooLittle: ManagementEndpoint<Pick<Deps, 'now'>> = logEndpoints.list;

export const givenWhatItDeclares: ManagementEndpoint<Pick<Deps, 'logs' | 'now'>> = logEndpoints.list;
