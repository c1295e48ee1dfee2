import { createAwsDeps } from '../aws-deps.js';
import { createTokenHandler } from './create-token-handler.js';

/** Lambda entry of the token function (OAuth, OIDC discovery, userinfo). */
export const handler = createTokenHandler(createAwsDeps('auth-token'));
