import type { Deps } from '../deps.js';
import type { ConnectionRecord } from '../store/records.js';
import type { Deadline } from './deadline.js';
import type { UpstreamManagementTarget } from './upstream-management-api.js';

export type ManagementTargetOf =
  | { kind: 'not_configured' }
  | { kind: 'failed'; reason: 'upstream_management_secret_missing' }
  | { kind: 'ready'; target: UpstreamManagementTarget };

/**
 * The upstream Management API a connection reaches through its `configuration.management_api`:
 * its credentials (the secret from the secret store), its rate and its breaker, for one call's deadline.
 */
export async function upstreamManagementTargetOf(
  deps: Pick<Deps, 'secrets'>,
  tenant: string,
  connection: ConnectionRecord,
  deadline: Deadline,
): Promise<ManagementTargetOf> {
  const config = connection.options.configuration?.management_api;
  if (!config) return { kind: 'not_configured' };
  const secret = await deps.secrets.get(config.client_secret_ref).catch(() => undefined);
  if (!secret) return { kind: 'failed', reason: 'upstream_management_secret_missing' };
  return {
    kind: 'ready',
    target: {
      tenant,
      requestsPerSecond: config.rate_limit?.requests_per_second,
      breakerKey: `${tenant}:${connection.id}:management`,
      domain: config.domain,
      clientId: config.client_id,
      clientSecret: secret,
      deadline,
    },
  };
}
