import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import type { Deps } from '../deps.js';
import { createLambdaJobRunner } from './lambda-job-runner.js';
import { createS3ExportFiles } from './s3-export-files.js';

/**
 * Background jobs of the management function in AWS: export files in `EXPORT_BUCKET`, runs as
 * asynchronous invocations of the function itself (`AWS_LAMBDA_FUNCTION_NAME`, set by Lambda).
 * Without a bucket, exports are not offered.
 */
export function withAwsJobs(deps: Deps, env: NodeJS.ProcessEnv = process.env): Deps {
  const bucket = env.EXPORT_BUCKET;
  const self = env.AWS_LAMBDA_FUNCTION_NAME;
  if (bucket && self) {
    deps.jobs = { runner: createLambdaJobRunner(new LambdaClient({}), self), exportFiles: createS3ExportFiles(new S3Client({}), bucket) };
  }
  return deps;
}
