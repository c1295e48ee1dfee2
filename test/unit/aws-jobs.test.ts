import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { withAwsJobs } from '../../lambdas/jobs/aws-jobs.js';
import { createLambdaJobRunner, isJobInvocation } from '../../lambdas/jobs/lambda-job-runner.js';
import { createS3ExportFiles } from '../../lambdas/jobs/s3-export-files.js';
import type { Deps } from '../../lambdas/deps.js';

/** The AWS side of export jobs (no local engine for Lambda or S3 here): what is sent, and the presigned location. */
const lambda = mockClient(LambdaClient);
const s3 = mockClient(S3Client);
afterEach(() => {
  lambda.reset();
  s3.reset();
});

const credentials = { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret-example' };

describe('export jobs in AWS', () => {
  it('enqueues a job as an asynchronous invocation of the function, with the job as payload', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
    await createLambdaJobRunner(new LambdaClient({ region: 'eu-west-1', credentials }), 'stack-management').enqueue({ tenant: 't1', id: 'job_0123456789abcdef', type: 'users_export' });
    const [call] = lambda.commandCalls(InvokeCommand);
    expect(call.args[0].input).toMatchObject({ FunctionName: 'stack-management', InvocationType: 'Event' });
    const payload = JSON.parse(Buffer.from(call.args[0].input.Payload as Uint8Array).toString('utf8'));
    expect(payload).toEqual({ job: { tenant: 't1', id: 'job_0123456789abcdef', type: 'users_export' } });
    expect(isJobInvocation(payload)).toBe(true);
  });

  it('tells a job invocation from an API Gateway event', () => {
    expect(isJobInvocation({ requestContext: { http: {} }, job: {} })).toBe(false);
    expect(isJobInvocation({ version: '2.0', rawPath: '/api/v2/jobs/x' })).toBe(false);
  });

  it('writes export files gzip-encoded to the bucket, and locates them by a presigned GET URL of an hour', async () => {
    s3.on(PutObjectCommand).resolves({});
    const files = createS3ExportFiles(new S3Client({ region: 'eu-west-1', credentials }), 'export-bucket');
    await files.put('exports/t1/job_1.json.gz', Buffer.from([31, 139]), 'application/x-ndjson');
    expect(s3.commandCalls(PutObjectCommand)[0].args[0].input).toMatchObject({
      Bucket: 'export-bucket',
      Key: 'exports/t1/job_1.json.gz',
      ContentType: 'application/x-ndjson',
      ContentEncoding: 'gzip',
    });
    const url = new URL(await files.location('exports/t1/job_1.json.gz'));
    expect(url.protocol).toBe('https:');
    expect(url.hostname).toContain('export-bucket');
    expect(url.pathname).toBe('/exports/t1/job_1.json.gz');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('3600');
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('offers exports only when the stack gave the function a bucket', () => {
    expect(withAwsJobs({} as Deps, { AWS_LAMBDA_FUNCTION_NAME: 'fn' }).jobs).toBeUndefined();
    expect(withAwsJobs({} as Deps, { AWS_LAMBDA_FUNCTION_NAME: 'fn', EXPORT_BUCKET: 'b' }).jobs).toBeDefined();
  });
});
