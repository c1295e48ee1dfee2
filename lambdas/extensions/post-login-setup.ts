import { LambdaClient } from '@aws-sdk/client-lambda';
import type { Deps, ServiceConfig } from '../deps.js';
import { createLambdaPostLogin } from './post-login-lambda.js';
import { loadModulePostLogin } from './post-login-module.js';
import type { PostLoginExtension } from './post-login.js';

/**
 * The post-login extension the configuration names: a Lambda function (AWS; CDK context
 * `postLoginFunctionName`) or, locally, a JS module (`POST_LOGIN_MODULE`). None: no extension.
 */
export function postLoginFromConfig(config: ServiceConfig['postLogin']): Deps['postLogin'] {
  if (!config) return undefined;
  const policy = { timeoutMs: config.timeoutMs, failureMode: config.failureMode };
  if (config.functionName) {
    return { extension: createLambdaPostLogin(new LambdaClient({}), config.functionName), policy };
  }
  if (config.modulePath) {
    // Loaded on first use; a module that fails to load fails like any other extension error.
    let loaded: Promise<PostLoginExtension> | undefined;
    const modulePath = config.modulePath;
    return {
      extension: async (event, signal) => (await (loaded ??= loadModulePostLogin(modulePath)))(event, signal),
      policy,
    };
  }
  return undefined;
}
