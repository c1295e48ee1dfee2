import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { ExportFileStore } from './job-ports.js';

/** How long a presigned download URL of an export lasts. */
export const EXPORT_URL_SECONDS = 3600;

/** Export files in the stack's export bucket (encrypted, private); the location is a presigned GET URL. */
export function createS3ExportFiles(client: S3Client, bucket: string): ExportFileStore {
  return {
    async put(key, body, contentType) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType, ContentEncoding: 'gzip' }));
    },
    async location(key) {
      return getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: EXPORT_URL_SECONDS });
    },
  };
}
