import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { ExportFileStore } from './job-ports.js';

/** How long a presigned download URL of an export lasts. */
export const EXPORT_URL_SECONDS = 3600;
/** Bytes of one uploaded part (S3's minimum for every part but the last is 5 MiB). */
export const EXPORT_PART_BYTES = 8 * 1024 * 1024;

/**
 * Export files in the stack's export bucket (encrypted, private); the location is a presigned GET
 * URL. A file is uploaded part by part as its stream fills a part (a multipart upload), so a
 * worker holds at most one part of it; a failed upload is aborted.
 */
export function createS3ExportFiles(client: S3Client, bucket: string, partBytes = EXPORT_PART_BYTES): ExportFileStore {
  return {
    async write(key, body, contentType) {
      const { UploadId } = await client.send(
        new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: contentType, ContentEncoding: 'gzip' }),
      );
      const parts: { ETag: string | undefined; PartNumber: number }[] = [];
      const upload = async (chunks: Buffer[]) => {
        const PartNumber = parts.length + 1;
        const res = await client.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber, Body: Buffer.concat(chunks) }));
        parts.push({ ETag: res.ETag, PartNumber });
      };
      try {
        let chunks: Buffer[] = [];
        let size = 0;
        for await (const chunk of body) {
          const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
          chunks.push(buf);
          size += buf.length;
          if (size >= partBytes) {
            await upload(chunks);
            chunks = [];
            size = 0;
          }
        }
        // The last part may be smaller (and is the only one of a small file).
        if (size > 0 || parts.length === 0) await upload(chunks);
        await client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: parts } }));
      } catch (err) {
        await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId })).catch(() => {});
        throw err;
      }
    },
    async location(key) {
      return getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: EXPORT_URL_SECONDS });
    },
  };
}
