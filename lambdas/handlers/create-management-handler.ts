import middy from '@middy/core';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import httpRouterHandler from '@middy/http-router';
import type { APIGatewayProxyResultV2 } from 'aws-lambda';
import type { Deps } from '../deps.js';
import type { HttpEvent } from '../http/event.js';
import { claimMappingEndpoints } from '../management/claim-mappings.js';
import { attackProtectionEndpoints } from '../management/attack-protection.js';
import { clientGrantEndpoints } from '../management/client-grants.js';
import { clientEndpoints } from '../management/clients.js';
import { connectionEndpoints } from '../management/connections.js';
import { runManagementEndpoint, type ManagementEndpoint } from '../management/endpoint.js';
import { managementBodyLimit, managementErrorResponses, managementErrors } from '../management/errors.js';
import { hookEndpoints } from '../management/hooks.js';
import { jobEndpoints } from '../management/jobs.js';
import { exportJobEndpoints } from '../management/jobs-export.js';
import { IMPORT_REQUEST_MAX_BYTES, importJobEndpoints } from '../jobs/import-endpoints.js';
import { logEndpoints } from '../management/logs.js';
import { migrationSourceEndpoints } from '../management/migration-sources.js';
import { resourceServerEndpoints } from '../management/resource-servers.js';
import { roleEndpoints } from '../management/roles.js';
import { ticketEndpoints } from '../management/tickets.js';
import { userRoleEndpoints } from '../management/user-roles.js';
import { statsEndpoints } from '../management/stats.js';
import { userEndpoints } from '../management/users.js';
import { managementRoutes, type RouteKey } from '../routes.js';

/**
 * Every route of the management function, by route key (the type makes the table exhaustive).
 * Each operation declares the dependencies it uses; the table checks the composition holds them.
 */
export const managementEndpoints: Record<RouteKey<'management'>, ManagementEndpoint<Deps>> = {
  'GET /api/v2/connections': connectionEndpoints.list,
  'POST /api/v2/connections': connectionEndpoints.create,
  'GET /api/v2/connections/{id}': connectionEndpoints.get,
  'PATCH /api/v2/connections/{id}': connectionEndpoints.update,
  'DELETE /api/v2/connections/{id}': connectionEndpoints.delete,
  'GET /api/v2/migration-sources': migrationSourceEndpoints.list,
  'POST /api/v2/migration-sources': migrationSourceEndpoints.create,
  'GET /api/v2/migration-sources/{id}': migrationSourceEndpoints.get,
  'PATCH /api/v2/migration-sources/{id}': migrationSourceEndpoints.update,
  'DELETE /api/v2/migration-sources/{id}': migrationSourceEndpoints.delete,
  'GET /api/v2/users': userEndpoints.list,
  'POST /api/v2/users': userEndpoints.create,
  'GET /api/v2/users-by-email': userEndpoints.byEmail,
  'GET /api/v2/users/{id}': userEndpoints.get,
  'PATCH /api/v2/users/{id}': userEndpoints.update,
  'DELETE /api/v2/users/{id}': userEndpoints.delete,
  'GET /api/v2/clients': clientEndpoints.list,
  'POST /api/v2/clients': clientEndpoints.create,
  'GET /api/v2/clients/{id}': clientEndpoints.get,
  'PATCH /api/v2/clients/{id}': clientEndpoints.update,
  'DELETE /api/v2/clients/{id}': clientEndpoints.delete,
  'GET /api/v2/client-grants': clientGrantEndpoints.list,
  'POST /api/v2/client-grants': clientGrantEndpoints.create,
  'PATCH /api/v2/client-grants/{id}': clientGrantEndpoints.update,
  'DELETE /api/v2/client-grants/{id}': clientGrantEndpoints.delete,
  'GET /api/v2/logs': logEndpoints.list,
  'GET /api/v2/logs/{id}': logEndpoints.get,
  'GET /api/v2/stats/migration': statsEndpoints.migration,
  'GET /api/v2/hooks': hookEndpoints.list,
  'POST /api/v2/hooks': hookEndpoints.create,
  'GET /api/v2/hooks/{id}': hookEndpoints.get,
  'PATCH /api/v2/hooks/{id}': hookEndpoints.update,
  'DELETE /api/v2/hooks/{id}': hookEndpoints.delete,
  'GET /api/v2/resource-servers': resourceServerEndpoints.list,
  'POST /api/v2/resource-servers': resourceServerEndpoints.create,
  'GET /api/v2/resource-servers/{id}': resourceServerEndpoints.get,
  'PATCH /api/v2/resource-servers/{id}': resourceServerEndpoints.update,
  'DELETE /api/v2/resource-servers/{id}': resourceServerEndpoints.delete,
  'GET /api/v2/roles': roleEndpoints.list,
  'POST /api/v2/roles': roleEndpoints.create,
  'GET /api/v2/roles/{id}': roleEndpoints.get,
  'PATCH /api/v2/roles/{id}': roleEndpoints.update,
  'DELETE /api/v2/roles/{id}': roleEndpoints.delete,
  'GET /api/v2/roles/{id}/permissions': roleEndpoints.listPermissions,
  'POST /api/v2/roles/{id}/permissions': roleEndpoints.addPermissions,
  'DELETE /api/v2/roles/{id}/permissions': roleEndpoints.removePermissions,
  'GET /api/v2/roles/{id}/users': roleEndpoints.listUsers,
  'POST /api/v2/roles/{id}/users': roleEndpoints.addUsers,
  'GET /api/v2/users/{id}/roles': userRoleEndpoints.listRoles,
  'POST /api/v2/users/{id}/roles': userRoleEndpoints.assignRoles,
  'DELETE /api/v2/users/{id}/roles': userRoleEndpoints.removeRoles,
  'GET /api/v2/users/{id}/permissions': userRoleEndpoints.listPermissions,
  'GET /api/v2/claim-mappings': claimMappingEndpoints.list,
  'POST /api/v2/claim-mappings': claimMappingEndpoints.create,
  'DELETE /api/v2/claim-mappings/{id}': claimMappingEndpoints.delete,
  'GET /api/v2/attack-protection/brute-force-protection': attackProtectionEndpoints.getBruteForce,
  'PATCH /api/v2/attack-protection/brute-force-protection': attackProtectionEndpoints.updateBruteForce,
  'GET /api/v2/attack-protection/suspicious-ip-throttling': attackProtectionEndpoints.getSuspiciousIp,
  'PATCH /api/v2/attack-protection/suspicious-ip-throttling': attackProtectionEndpoints.updateSuspiciousIp,
  'POST /api/v2/tickets/password-change': ticketEndpoints.passwordChange,
  'POST /api/v2/tickets/email-verification': ticketEndpoints.emailVerification,
  'POST /api/v2/jobs/verification-email': ticketEndpoints.verificationEmailJob,
  'POST /api/v2/jobs/users-exports': exportJobEndpoints.create,
  'GET /api/v2/jobs/{id}': importJobEndpoints.get,
  'POST /api/v2/jobs/users-imports': importJobEndpoints.create,
  'GET /api/v2/jobs/{id}/errors': importJobEndpoints.errors,
};

/** The management function: middy, body limit, JSON body, Auth0 error shaping, and the router. No logic. */
export function createManagementHandler(deps: Deps) {
  const router = httpRouterHandler({
    routes: managementRoutes.map((route) => ({
      method: route.method,
      path: route.path,
      handler: (event: HttpEvent) =>
        runManagementEndpoint(deps, managementEndpoints[`${route.method} ${route.path}` as RouteKey<'management'>], event),
    })),
    notFoundResponse: () => {
      throw managementErrors.routeNotFound();
    },
  } as never);
  return middy<HttpEvent, APIGatewayProxyResultV2>()
    .use(managementErrorResponses(deps.sink))
    .use(managementBodyLimit(deps.config.maxBodyBytes, { 'POST /api/v2/jobs/users-imports': IMPORT_REQUEST_MAX_BYTES }))
    .use(httpJsonBodyParser({ disableContentTypeError: true }))
    .handler(router as never);
}
