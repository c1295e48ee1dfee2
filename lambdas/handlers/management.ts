import { createAwsDeps } from '../aws-deps.js';
import { correlateRequests } from '../logs/log-sink.js';
import { withRegistrationHooks } from '../compose.js';
import { createManagementHandler } from './create-management-handler.js';

/** Lambda entry of the management function (Auth0 Management API v2). */
const deps = createAwsDeps('auth-management', withRegistrationHooks);
export const handler = correlateRequests(deps.sink, createManagementHandler(deps));
