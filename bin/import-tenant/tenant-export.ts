/**
 * A tenant's configuration as `import-tenant` reads it, from the upstream's Management API or an
 * Auth0 Deploy CLI export: Auth0's own shapes, only the parts this service can take over.
 */
export interface ExportedClient {
  client_id?: string;
  client_secret?: string;
  name: string;
  description?: string;
  app_type?: string;
  grant_types?: string[];
  token_endpoint_auth_method?: string;
  callbacks?: string[];
  allowed_logout_urls?: string[];
  web_origins?: string[];
  refresh_token?: Record<string, unknown>;
  global?: boolean;
  [field: string]: unknown;
}

export interface ExportedResourceServer {
  identifier: string;
  name: string;
  scopes?: { value: string; description?: string }[];
  token_lifetime?: number;
  token_lifetime_for_web?: number;
  allow_offline_access?: boolean;
  enforce_policies?: boolean;
  token_dialect?: string;
  signing_alg?: string;
  is_system?: boolean;
  [field: string]: unknown;
}

export interface ExportedRole {
  name: string;
  description?: string;
  permissions: { resource_server_identifier: string; permission_name: string }[];
}

export interface ExportedClientGrant {
  /** A client id, or (Deploy CLI exports) the client's name. */
  client_id: string;
  audience: string;
  scope: string[];
}

export interface ExportedConnection {
  name: string;
  strategy: string;
  options?: { passwordPolicy?: string | null; [field: string]: unknown };
  /** Client ids, or (Deploy CLI exports) client names. */
  enabled_clients?: string[];
}

export interface TenantExport {
  /** Where it was read from, for the report. */
  origin: string;
  clients: ExportedClient[];
  resourceServers: ExportedResourceServer[];
  roles: ExportedRole[];
  clientGrants: ExportedClientGrant[];
  connections: ExportedConnection[];
}
