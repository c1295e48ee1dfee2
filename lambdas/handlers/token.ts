import { createAwsDeps } from '../aws-deps.js';
import { correlateRequests } from '../logs/log-sink.js';
import { withMigrationFlows } from '../compose.js';
import { createTokenHandler } from './create-token-handler.js';

/** Lambda entry of the token function (OAuth, OIDC discovery, userinfo, hosted login). */
const deps = createAwsDeps('auth-token', withMigrationFlows);
export const handler = correlateRequests(deps.sink, createTokenHandler(deps));
