import { createAwsDeps } from '../aws-deps.js';
import { withMigrationFlows } from '../compose.js';
import { createTokenHandler } from './create-token-handler.js';

/** Lambda entry of the token function (OAuth, OIDC discovery, userinfo, hosted login). */
export const handler = createTokenHandler(createAwsDeps('auth-token', withMigrationFlows));
