import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { awsJobs } from '../../lambdas/jobs/aws-jobs.js';
import { createS3ExportFiles } from '../../lambdas/jobs/s3-export-files.js';
import type { Deps } from '../../lambdas/deps.js';

/** The AWS side of export files (no local engine for S3 here): the part-by-part upload, and the presigned location. */
const s3 = mockClient(S3Client);
afterEach(() => s3.reset());

const credentials = { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret-example' };
const client = () => new S3Client({ region: 'eu-west-1', credentials });

function uploadAccepted() {
  s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-1' });
  s3.on(UploadPartCommand).callsFake((input: { PartNumber: number }) => ({ ETag: `"etag-${input.PartNumber}"` }));
  s3.on(CompleteMultipartUploadCommand).resolves({});
}

describe('export files in S3', () => {
  it('uploads the stream part by part as parts fill (never the whole file at once), gzip-encoded, and completes the upload', async () => {
    uploadAccepted();
    const files = createS3ExportFiles(client(), 'export-bucket', 1000);
    const chunks = Array.from({ length: 25 }, (_, i) => Buffer.alloc(100, i));
    await files.write('exports/t1/job_1.json.gz', Readable.from(chunks), 'application/x-ndjson');
    expect(s3.commandCalls(CreateMultipartUploadCommand)[0].args[0].input).toMatchObject({
      Bucket: 'export-bucket',
      Key: 'exports/t1/job_1.json.gz',
      ContentType: 'application/x-ndjson',
      ContentEncoding: 'gzip',
    });
    const parts = s3.commandCalls(UploadPartCommand).map((c) => c.args[0].input);
    expect(parts.map((p) => (p.Body as Buffer).length)).toEqual([1000, 1000, 500]);
    expect(Buffer.concat(parts.map((p) => p.Body as Buffer))).toEqual(Buffer.concat(chunks));
    expect(s3.commandCalls(CompleteMultipartUploadCommand)[0].args[0].input).toMatchObject({
      UploadId: 'up-1',
      MultipartUpload: { Parts: [1, 2, 3].map((n) => ({ PartNumber: n, ETag: `"etag-${n}"` })) },
    });
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('an empty or small file is one part; a stream that fails aborts the upload and the write fails', async () => {
    uploadAccepted();
    await createS3ExportFiles(client(), 'export-bucket').write('exports/t1/small.json.gz', Readable.from([Buffer.from('x')]), 'text/csv');
    expect(s3.commandCalls(UploadPartCommand)).toHaveLength(1);

    s3.reset();
    uploadAccepted();
    s3.on(AbortMultipartUploadCommand).resolves({});
    async function* failing() {
      yield Buffer.alloc(10);
      throw new Error('the listing failed');
    }
    await expect(createS3ExportFiles(client(), 'export-bucket').write('exports/t1/bad.json.gz', Readable.from(failing()), 'text/csv')).rejects.toThrow('the listing failed');
    expect(s3.commandCalls(AbortMultipartUploadCommand)[0].args[0].input).toMatchObject({ Bucket: 'export-bucket', Key: 'exports/t1/bad.json.gz', UploadId: 'up-1' });
    expect(s3.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
  });

  it('locates files by a presigned GET URL of an hour', async () => {
    const url = new URL(await createS3ExportFiles(client(), 'export-bucket').location('exports/t1/job_1.json.gz'));
    expect(url.protocol).toBe('https:');
    expect(url.hostname).toContain('export-bucket');
    expect(url.pathname).toBe('/exports/t1/job_1.json.gz');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('3600');
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('offers exports only when the stack gave the function a bucket', () => {
    expect(awsJobs({})).toBeUndefined();
    expect(awsJobs({ EXPORT_BUCKET: 'b' })).toBeDefined();
  });
});
