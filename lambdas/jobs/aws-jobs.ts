import { S3Client } from '@aws-sdk/client-s3';
import type { Deps } from '../deps.js';
import { createS3ExportFiles } from './s3-export-files.js';

/**
 * Export files in AWS, in `EXPORT_BUCKET`: the worker writes them, the management function
 * presigns their download URLs. Without a bucket, exports are not offered.
 */
export function awsJobs(env: NodeJS.ProcessEnv = process.env): Deps['jobs'] {
  const bucket = env.EXPORT_BUCKET;
  return bucket ? { exportFiles: createS3ExportFiles(new S3Client({}), bucket) } : undefined;
}
