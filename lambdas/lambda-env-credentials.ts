import { fromEnv } from '@aws-sdk/credential-provider-env';

/**
 * Stands in for `@aws-sdk/credential-provider-node` in the Lambda bundles (an esbuild alias in
 * lib/handler-bundling.ts). Lambda always hands a function its role's credentials in the
 * environment, so the SDK's full provider chain (SSO, INI files, IMDS, web identity and the
 * STS/SSO clients it carries) is dead weight: about 90 KB of bundle and its load time.
 * Same exports as the module it replaces.
 */
export const defaultProvider = () => fromEnv();
export const credentialsWillNeedRefresh = () => false;
export const credentialsTreatedAsExpired = () => false;
