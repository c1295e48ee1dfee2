/**
 * The one route table. The CDK stack wires each route to its function's integration and the
 * local server dispatches by it, so the deployed API and `npm start` cannot drift apart.
 * Each handler file declares a handler for every route of its function (checked by its
 * `Record<RouteKey<'token'>, …>` table, e.g. `tokenEndpoints`).
 */
export type FunctionName = 'token' | 'management';
export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE' | 'OPTIONS';

export interface RouteDefinition {
  readonly method: HttpMethod;
  /** API Gateway v2 path syntax: `/api/v2/users/{id}` */
  readonly path: string;
  readonly fn: FunctionName;
}

/** The token function's routes: OAuth / OIDC, and the hosted login. */
export const tokenRoutes = [
  { method: 'POST', path: '/oauth/token', fn: 'token' },
  { method: 'POST', path: '/oauth/revoke', fn: 'token' },
  { method: 'GET', path: '/userinfo', fn: 'token' },
  { method: 'POST', path: '/userinfo', fn: 'token' },
  { method: 'GET', path: '/.well-known/openid-configuration', fn: 'token' },
  { method: 'GET', path: '/.well-known/jwks.json', fn: 'token' },
  { method: 'GET', path: '/authorize', fn: 'token' },
  { method: 'GET', path: '/u/login', fn: 'token' },
  { method: 'POST', path: '/u/login', fn: 'token' },
  { method: 'GET', path: '/v2/logout', fn: 'token' },
  { method: 'GET', path: '/login/callback', fn: 'token' },
  { method: 'POST', path: '/login/callback', fn: 'token' },
  { method: 'OPTIONS', path: '/oauth/token', fn: 'token' },
  { method: 'POST', path: '/dbconnections/change_password', fn: 'token' },
  { method: 'POST', path: '/dbconnections/signup', fn: 'token' },
  { method: 'GET', path: '/u/login/reset-request', fn: 'token' },
  { method: 'POST', path: '/u/login/reset-request', fn: 'token' },
  { method: 'GET', path: '/u/reset-password', fn: 'token' },
  { method: 'POST', path: '/u/reset-password', fn: 'token' },
  { method: 'GET', path: '/u/email-verification', fn: 'token' },
] as const satisfies readonly RouteDefinition[];

/** The management function's routes: the Management API v2. */
export const managementRoutes = [
  { method: 'GET', path: '/api/v2/connections', fn: 'management' },
  { method: 'POST', path: '/api/v2/connections', fn: 'management' },
  { method: 'GET', path: '/api/v2/connections/{id}', fn: 'management' },
  { method: 'PATCH', path: '/api/v2/connections/{id}', fn: 'management' },
  { method: 'DELETE', path: '/api/v2/connections/{id}', fn: 'management' },
  { method: 'GET', path: '/api/v2/migration-sources', fn: 'management' },
  { method: 'POST', path: '/api/v2/migration-sources', fn: 'management' },
  { method: 'GET', path: '/api/v2/migration-sources/{id}', fn: 'management' },
  { method: 'PATCH', path: '/api/v2/migration-sources/{id}', fn: 'management' },
  { method: 'DELETE', path: '/api/v2/migration-sources/{id}', fn: 'management' },
  { method: 'GET', path: '/api/v2/users', fn: 'management' },
  { method: 'POST', path: '/api/v2/users', fn: 'management' },
  { method: 'GET', path: '/api/v2/users-by-email', fn: 'management' },
  { method: 'GET', path: '/api/v2/users/{id}', fn: 'management' },
  { method: 'PATCH', path: '/api/v2/users/{id}', fn: 'management' },
  { method: 'DELETE', path: '/api/v2/users/{id}', fn: 'management' },
  { method: 'GET', path: '/api/v2/clients', fn: 'management' },
  { method: 'POST', path: '/api/v2/clients', fn: 'management' },
  { method: 'GET', path: '/api/v2/clients/{id}', fn: 'management' },
  { method: 'PATCH', path: '/api/v2/clients/{id}', fn: 'management' },
  { method: 'DELETE', path: '/api/v2/clients/{id}', fn: 'management' },
  { method: 'GET', path: '/api/v2/client-grants', fn: 'management' },
  { method: 'POST', path: '/api/v2/client-grants', fn: 'management' },
  { method: 'PATCH', path: '/api/v2/client-grants/{id}', fn: 'management' },
  { method: 'DELETE', path: '/api/v2/client-grants/{id}', fn: 'management' },
  { method: 'GET', path: '/api/v2/logs', fn: 'management' },
  { method: 'GET', path: '/api/v2/logs/{id}', fn: 'management' },
  { method: 'GET', path: '/api/v2/stats/migration', fn: 'management' },
  { method: 'GET', path: '/api/v2/hooks', fn: 'management' },
  { method: 'POST', path: '/api/v2/hooks', fn: 'management' },
  { method: 'GET', path: '/api/v2/hooks/{id}', fn: 'management' },
  { method: 'PATCH', path: '/api/v2/hooks/{id}', fn: 'management' },
  { method: 'DELETE', path: '/api/v2/hooks/{id}', fn: 'management' },
  { method: 'GET', path: '/api/v2/resource-servers', fn: 'management' },
  { method: 'POST', path: '/api/v2/resource-servers', fn: 'management' },
  { method: 'GET', path: '/api/v2/resource-servers/{id}', fn: 'management' },
  { method: 'PATCH', path: '/api/v2/resource-servers/{id}', fn: 'management' },
  { method: 'DELETE', path: '/api/v2/resource-servers/{id}', fn: 'management' },
  { method: 'GET', path: '/api/v2/roles', fn: 'management' },
  { method: 'POST', path: '/api/v2/roles', fn: 'management' },
  { method: 'GET', path: '/api/v2/roles/{id}', fn: 'management' },
  { method: 'PATCH', path: '/api/v2/roles/{id}', fn: 'management' },
  { method: 'DELETE', path: '/api/v2/roles/{id}', fn: 'management' },
  { method: 'GET', path: '/api/v2/roles/{id}/permissions', fn: 'management' },
  { method: 'POST', path: '/api/v2/roles/{id}/permissions', fn: 'management' },
  { method: 'DELETE', path: '/api/v2/roles/{id}/permissions', fn: 'management' },
  { method: 'GET', path: '/api/v2/roles/{id}/users', fn: 'management' },
  { method: 'POST', path: '/api/v2/roles/{id}/users', fn: 'management' },
  { method: 'GET', path: '/api/v2/users/{id}/roles', fn: 'management' },
  { method: 'POST', path: '/api/v2/users/{id}/roles', fn: 'management' },
  { method: 'DELETE', path: '/api/v2/users/{id}/roles', fn: 'management' },
  { method: 'GET', path: '/api/v2/users/{id}/permissions', fn: 'management' },
  { method: 'GET', path: '/api/v2/claim-mappings', fn: 'management' },
  { method: 'POST', path: '/api/v2/claim-mappings', fn: 'management' },
  { method: 'DELETE', path: '/api/v2/claim-mappings/{id}', fn: 'management' },
  { method: 'GET', path: '/api/v2/attack-protection/brute-force-protection', fn: 'management' },
  { method: 'PATCH', path: '/api/v2/attack-protection/brute-force-protection', fn: 'management' },
  { method: 'GET', path: '/api/v2/attack-protection/suspicious-ip-throttling', fn: 'management' },
  { method: 'PATCH', path: '/api/v2/attack-protection/suspicious-ip-throttling', fn: 'management' },
  { method: 'POST', path: '/api/v2/tickets/password-change', fn: 'management' },
  { method: 'POST', path: '/api/v2/tickets/email-verification', fn: 'management' },
  { method: 'POST', path: '/api/v2/jobs/verification-email', fn: 'management' },
  { method: 'POST', path: '/api/v2/jobs/users-exports', fn: 'management' },
  { method: 'GET', path: '/api/v2/jobs/{id}', fn: 'management' },
  { method: 'POST', path: '/api/v2/jobs/users-imports', fn: 'management' },
  { method: 'GET', path: '/api/v2/jobs/{id}/errors', fn: 'management' },
] as const satisfies readonly RouteDefinition[];

/**
 * Every route. Each function's handler imports only its own part, so a bundle carries only
 * the routes it serves.
 */
export const routes = /* @__PURE__ */ joinRoutes(tokenRoutes, managementRoutes);

function joinRoutes<A extends readonly RouteDefinition[], B extends readonly RouteDefinition[]>(a: A, b: B): readonly [...A, ...B] {
  return [...a, ...b] as const;
}

export type Route = (typeof routes)[number];
export type RouteKey<F extends FunctionName = FunctionName> = Extract<Route, { fn: F }> extends infer R
  ? R extends { method: infer M extends string; path: infer P extends string }
    ? `${M} ${P}`
    : never
  : never;

export function routeKey(route: RouteDefinition): string {
  return `${route.method} ${route.path}`;
}

export function routesOf(fn: FunctionName): readonly RouteDefinition[] {
  return routes.filter((r) => r.fn === fn);
}

/** Matches a concrete request path against the table (API Gateway v2 `{param}` segments). */
export function matchRoute(
  method: string,
  path: string,
): { route: RouteDefinition; pathParameters: Record<string, string> } | undefined {
  const segments = path.split('/');
  for (const route of routes as readonly RouteDefinition[]) {
    if (route.method !== method.toUpperCase()) continue;
    const pattern = route.path.split('/');
    if (pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < pattern.length; i++) {
      const p = pattern[i];
      const s = segments[i];
      if (p.startsWith('{') && p.endsWith('}')) {
        if (s === '') { ok = false; break; }
        try { params[p.slice(1, -1)] = decodeURIComponent(s); } catch { ok = false; break; }
      } else if (p !== s) { ok = false; break; }
    }
    if (ok) return { route, pathParameters: params };
  }
  return undefined;
}

/** Whether some route exists for this path under another method (for 405 vs 404). */
export function pathExists(path: string): boolean {
  return ['GET', 'POST', 'PATCH', 'PUT', 'DELETE'].some((m) => matchRoute(m, path));
}
