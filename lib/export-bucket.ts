import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Effect, Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { EXPORT_RETENTION_SECONDS } from '../lambdas/jobs/job-ports.js';

/** The folder of the bucket the management function writes export files to (`exports/<tenant>/<job>.json.gz`). */
export const EXPORT_PREFIX = 'exports/';

export interface ExportBucketProps {
  /** The management function: it writes the files, presigns their download URLs and runs export jobs by invoking itself. */
  readonly managementFunction: IFunction & { addEnvironment(key: string, value: string): unknown };
}

/**
 * Users-export files (`POST /api/v2/jobs/users-exports`): a private bucket (S3-managed
 * encryption, public access blocked, TLS only, owner-enforced objects) whose files expire with
 * their jobs. The management function may only put and get objects under `exports/` (a presigned
 * URL carries the signer's permissions), and invoke itself to run a job out of the request.
 */
export class ExportBucket extends Construct {
  readonly bucket: Bucket;

  constructor(scope: Construct, id: string, props: ExportBucketProps) {
    super(scope, id);
    const fn = props.managementFunction;
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
    fn.addToRolePolicy(
      new PolicyStatement({
        sid: 'WriteAndPresignExportFiles',
        effect: Effect.ALLOW,
        actions: ['s3:PutObject', 's3:GetObject'],
        resources: [this.bucket.arnForObjects(`${EXPORT_PREFIX}*`)],
      }),
    );
    // A policy of its own, not the role's default one: the function depends on that, which would make a cycle.
    new Policy(this, 'RunJobs', {
      roles: [fn.role!],
      statements: [new PolicyStatement({ sid: 'InvokeSelfForJobs', effect: Effect.ALLOW, actions: ['lambda:InvokeFunction'], resources: [fn.functionArn] })],
    });
    fn.addEnvironment('EXPORT_BUCKET', this.bucket.bucketName);
  }
}
