/**
 * How each Lambda entry is bundled. One source for the CDK stack (NodejsFunction) and for
 * bench/bundle-size.ts (esbuild API), so the measured bundle is the deployed bundle.
 */
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { FunctionName } from '../lambdas/routes.js';

export const projectRoot = fileURLToPath(new URL('..', import.meta.url));

/** The Lambda entry file of each function in the route table. */
export const handlerEntries: Record<FunctionName, string> = {
  token: path.join(projectRoot, 'lambdas', 'handlers', 'token.ts'),
  management: path.join(projectRoot, 'lambdas', 'handlers', 'management.ts'),
};

/** ESM bundles run CommonJS dependencies that call `require`, so give them one. */
export const esmRequireBanner =
  "import { createRequire as __bundleCreateRequire } from 'node:module'; const require = __bundleCreateRequire(import.meta.url);";

/** The esbuild settings both paths share (names follow the NodejsFunction bundling props). */
export const sharedBundling = {
  target: 'node22',
  format: 'esm',
  platform: 'node',
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  mainFields: ['module', 'main'],
  banner: esmRequireBanner,
  /** Nothing external: the AWS SDK v3 is bundled, so the code runs against the versions it was tested with. */
  externalModules: [] as string[],
  /** Module replacements (see lambdas/lambda-env-credentials.ts and lambda-no-endpoint-discovery.ts for why). */
  alias: {
    '@aws-sdk/credential-provider-node': path.join(projectRoot, 'lambdas', 'lambda-env-credentials.ts'),
    '@aws-sdk/middleware-endpoint-discovery': path.join(projectRoot, 'lambdas', 'lambda-no-endpoint-discovery.ts'),
  } as Record<string, string>,
} as const;

/** The aliases as NodejsFunction `esbuildArgs`. */
export const aliasEsbuildArgs = Object.fromEntries(
  Object.entries(sharedBundling.alias).map(([from, to]) => [`--alias:${from}`, to]),
);

/** NodejsFunction `bundling` for every function of the stack, from the shared settings. */
export function nodejsBundling(): BundlingOptions {
  return {
    format: OutputFormat.ESM,
    target: sharedBundling.target,
    minify: sharedBundling.minify,
    sourceMap: sharedBundling.sourceMap,
    sourcesContent: sharedBundling.sourcesContent,
    mainFields: [...sharedBundling.mainFields],
    banner: sharedBundling.banner,
    externalModules: [...sharedBundling.externalModules],
    esbuildArgs: aliasEsbuildArgs,
    forceDockerBundling: false,
  };
}

/** The file name NodejsFunction gives an ESM bundle; the handler is `index.handler`. */
export const bundleFileName = 'index.mjs';

/** Options for esbuild's `build()` that reproduce the NodejsFunction bundle of one entry. */
export function esbuildOptionsFor(entry: string, outfile: string) {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    target: sharedBundling.target,
    format: sharedBundling.format,
    platform: sharedBundling.platform,
    minify: sharedBundling.minify,
    sourcemap: sharedBundling.sourceMap,
    sourcesContent: sharedBundling.sourcesContent,
    mainFields: [...sharedBundling.mainFields],
    banner: { js: sharedBundling.banner },
    external: [...sharedBundling.externalModules],
    alias: { ...sharedBundling.alias },
    logLevel: 'warning' as const,
  };
}
