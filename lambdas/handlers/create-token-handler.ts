import middy from '@middy/core';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import httpRouterHandler from '@middy/http-router';
import httpUrlEncodeBodyParser from '@middy/http-urlencode-body-parser';
import type { APIGatewayProxyResultV2 } from 'aws-lambda';
import type { Deps } from '../deps.js';
import type { HttpEvent } from '../http/event.js';
import { bodyLimit, oauthErrorResponses } from '../http/oauth-middleware.js';
import type { HttpResponse } from '../http/responses.js';
import { authorizeEndpoint } from '../authorize/authorize-endpoint.js';
import { loginPageEndpoint } from '../authorize/login-get.js';
import { loginPostEndpoint } from '../authorize/login-post.js';
import { emailVerificationEndpoint } from '../authorize/email-verification-page.js';
import { logoutEndpoint } from '../authorize/logout.js';
import { resetPasswordPageEndpoint, resetPasswordPostEndpoint } from '../authorize/reset-password-page.js';
import { resetRequestPageEndpoint, resetRequestPostEndpoint } from '../authorize/reset-request-page.js';
import { changePasswordEndpoint } from '../dbconnections/change-password-endpoint.js';
import { signupEndpoint } from '../dbconnections/signup.js';
import { loginCallbackEndpoint } from '../social/login-callback.js';
import { discoveryEndpoint, jwksEndpoint } from '../oauth/discovery.js';
import { revokeEndpoint } from '../oauth/revoke.js';
import { tokenCors, tokenPreflightEndpoint } from '../oauth/token-cors.js';
import { tokenEndpoint } from '../oauth/token-endpoint.js';
import { userinfoEndpoint } from '../oauth/userinfo.js';
import { tokenRoutes, type RouteKey } from '../routes.js';

type Endpoint = (deps: Deps, event: HttpEvent) => Promise<HttpResponse>;

/** Every route of the token function, by route key (the type makes the table exhaustive). */
export const tokenEndpoints: Record<RouteKey<'token'>, Endpoint> = {
  'POST /oauth/token': tokenEndpoint,
  'POST /oauth/revoke': revokeEndpoint,
  'GET /userinfo': userinfoEndpoint,
  'POST /userinfo': userinfoEndpoint,
  'GET /.well-known/openid-configuration': discoveryEndpoint,
  'GET /.well-known/jwks.json': jwksEndpoint,
  'GET /authorize': authorizeEndpoint,
  'GET /u/login': loginPageEndpoint,
  'POST /u/login': loginPostEndpoint,
  'GET /v2/logout': logoutEndpoint,
  'GET /login/callback': loginCallbackEndpoint,
  'POST /login/callback': loginCallbackEndpoint,
  'OPTIONS /oauth/token': tokenPreflightEndpoint,
  'POST /dbconnections/change_password': changePasswordEndpoint,
  'POST /dbconnections/signup': signupEndpoint,
  'GET /u/login/reset-request': resetRequestPageEndpoint,
  'POST /u/login/reset-request': resetRequestPostEndpoint,
  'GET /u/reset-password': resetPasswordPageEndpoint,
  'POST /u/reset-password': resetPasswordPostEndpoint,
  'GET /u/email-verification': emailVerificationEndpoint,
};

/** The token function: middy, body parsers, OAuth error shaping, and the router. No logic. */
export function createTokenHandler(deps: Deps) {
  const router = httpRouterHandler({
    routes: tokenRoutes.map((route) => ({
      method: route.method,
      path: route.path,
      handler: (event: HttpEvent) => tokenEndpoints[`${route.method} ${route.path}` as RouteKey<'token'>](deps, event),
    })),
    notFoundResponse: () => {
      throw Object.assign(new Error('Not found'), { statusCode: 404 });
    },
  } as never);
  return middy<HttpEvent, APIGatewayProxyResultV2>()
    // First in the chain so its onError runs last, on the shaped OAuth error response.
    .use(tokenCors(deps))
    .use(oauthErrorResponses(deps.sink))
    .use(bodyLimit(deps.config.maxBodyBytes))
    .use(httpJsonBodyParser({ disableContentTypeError: true }))
    .use(httpUrlEncodeBodyParser({ disableContentTypeError: true }))
    .handler(router as never);
}
