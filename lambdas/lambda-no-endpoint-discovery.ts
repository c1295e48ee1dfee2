/**
 * Stands in for `@aws-sdk/middleware-endpoint-discovery` in the Lambda bundles (an esbuild alias
 * in lib/handler-bundling.ts). DynamoDB endpoint discovery is off unless a client turns it on,
 * and this service never does: it talks to the regional endpoint. The real module carries an
 * LRU endpoint cache (about 10 KB of bundle). Same exports, as a client with discovery off uses them.
 */
type Input = Record<string, unknown> & { endpointDiscoveryEnabled?: boolean };

export const NODE_ENDPOINT_DISCOVERY_CONFIG_OPTIONS = {
  environmentVariableSelector: () => undefined,
  configFileSelector: () => undefined,
  default: undefined,
};

export const resolveEndpointDiscoveryConfig = (input: Input, { endpointDiscoveryCommandCtor }: { endpointDiscoveryCommandCtor: unknown }) => {
  if (input.endpointDiscoveryEnabled) throw new Error('DynamoDB endpoint discovery is not available in this bundle');
  return Object.assign(input, {
    endpointDiscoveryCommandCtor,
    endpointDiscoveryEnabled: () => Promise.resolve(false),
    isClientEndpointDiscoveryEnabled: false,
  });
};

export const endpointDiscoveryMiddlewareOptions = {
  name: 'endpointDiscoveryMiddleware',
  step: 'build',
  tags: ['ENDPOINT_DISCOVERY'],
  override: true,
};
const noPlugin = () => ({ applyToStack: () => {} });
export const getEndpointDiscoveryPlugin = noPlugin;
export const getEndpointDiscoveryRequiredPlugin = noPlugin;
export const getEndpointDiscoveryOptionalPlugin = noPlugin;
