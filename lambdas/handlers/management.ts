import { createAwsDeps } from '../aws-deps.js';
import { withRegistrationHooks } from '../compose.js';
import { createManagementHandler } from './create-management-handler.js';

/** Lambda entry of the management function (Auth0 Management API v2). */
export const handler = createManagementHandler(createAwsDeps('auth-management', withRegistrationHooks));
