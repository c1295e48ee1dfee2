import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { runActionHandler, type ActionHandler, type PostLoginExtension } from './post-login.js';

/**
 * The post-login extension as a local JS module (for `npm start` and tests): either an Auth0
 * Action (`export async function onExecutePostLogin(event, api)`) or a function returning the
 * result directly (`export default async (event) => ({ access_token_claims })`).
 */
export async function loadModulePostLogin(path: string): Promise<PostLoginExtension> {
  const mod = (await import(pathToFileURL(resolve(path)).href)) as {
    onExecutePostLogin?: ActionHandler;
    default?: PostLoginExtension;
  };
  if (typeof mod.onExecutePostLogin === 'function') {
    const handler = mod.onExecutePostLogin;
    return (event) => runActionHandler(handler, event);
  }
  if (typeof mod.default === 'function') return mod.default;
  throw new Error(`${path} exports neither onExecutePostLogin nor a default function`);
}
