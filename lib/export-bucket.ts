import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { EXPORT_RETENTION_SECONDS } from '../lambdas/jobs/job-ports.js';

/** The folder of the bucket the job worker writes export files to (`exports/<tenant>/<job>.json.gz`). */
export const EXPORT_PREFIX = 'exports/';

type FunctionWithEnvironment = IFunction & { addEnvironment(key: string, value: string): unknown };

export interface ExportBucketProps {
  /** The management function: it presigns the download URLs of the files. */
  readonly managementFunction: FunctionWithEnvironment;
  /** The job worker: it writes the files (part by part). */
  readonly worker: FunctionWithEnvironment;
}

/**
 * Users-export files (`POST /api/v2/jobs/users-exports`): a private bucket (S3-managed
 * encryption, public access blocked, TLS only, owner-enforced objects) whose files expire with
 * their jobs. The job worker may only put objects under `exports/` (a multipart upload, which it
 * may abort); the management function may only get them (a presigned URL carries the signer's
 * permissions).
 */
export class ExportBucket extends Construct {
  readonly bucket: Bucket;

  constructor(scope: Construct, id: string, props: ExportBucketProps) {
    super(scope, id);
    this.bucket = new Bucket(this, 'Bucket', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        {
          id: 'ExpireExportFiles',
          prefix: EXPORT_PREFIX,
          expiration: Duration.days(Math.ceil(EXPORT_RETENTION_SECONDS / 86_400)),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      // Kept when the stack is deleted (a delete of a non-empty bucket would fail it); its files expire on their own.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    props.worker.addToRolePolicy(
      new PolicyStatement({
        sid: 'WriteExportFiles',
        effect: Effect.ALLOW,
        actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
        resources: [this.bucket.arnForObjects(`${EXPORT_PREFIX}*`)],
      }),
    );
    props.managementFunction.addToRolePolicy(
      new PolicyStatement({
        sid: 'PresignExportFiles',
        effect: Effect.ALLOW,
        actions: ['s3:GetObject'],
        resources: [this.bucket.arnForObjects(`${EXPORT_PREFIX}*`)],
      }),
    );
    props.worker.addEnvironment('EXPORT_BUCKET', this.bucket.bucketName);
    props.managementFunction.addEnvironment('EXPORT_BUCKET', this.bucket.bucketName);
  }
}
