import { Duration, RemovalPolicy, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import { ApplicationLogLevel, Architecture, LoggingFormat, Runtime, SystemLogLevel, Tracing, type IFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import path from 'node:path';
import type { DeploymentConfig } from './deployment-config.js';
import { nodejsBundling, projectRoot } from './handler-bundling.js';
import { executionRole, handlerEnvironment, retentionDays } from './service-functions.js';

/** The worker's entry (not a route: it reads the queue). */
export const importWorkerEntry = path.join(projectRoot, 'lambdas', 'handlers', 'import-worker.ts');
const WORKER_TIMEOUT = Duration.minutes(2);
/** Deliveries of one batch before it goes to the dead-letter queue. */
export const IMPORT_MAX_RECEIVE_COUNT = 5;

export interface ImportJobsProps {
  readonly config: DeploymentConfig;
  readonly table: ITableV2;
  /** The management function, which queues the batches of the jobs it accepts. */
  readonly producer: IFunction;
  /** Grants the table's data actions to the worker (the same the handlers have). */
  readonly grantTable: (worker: IFunction) => void;
}

/**
 * Bulk-import and users-export jobs out of the request: the management function stores a job
 * (an import's file in the table) and sends one message per import batch or export to an SQS
 * queue; the worker Lambda runs each and reports failed records (`ReportBatchItemFailures`), so
 * only those are delivered again; after five deliveries a message goes to the dead-letter queue,
 * which the worker also reads to end that job `failed` (so none stays `processing`). Both queues
 * are encrypted and refuse plain-http access. The producer may only send to the queue; the
 * worker may only use the table, consume both queues (granted by the event source mappings) and
 * write export files (lib/export-bucket.ts); neither gets anything else.
 */
export class ImportJobs extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly worker: NodejsFunction;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: ImportJobsProps) {
    super(scope, id);
    const { config } = props;
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      // The worker reads it too (to end the job `failed`): as long as a run may take.
      visibilityTimeout: Duration.seconds(WORKER_TIMEOUT.toSeconds() * 6),
    });
    this.queue = new Queue(this, 'Queue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // Lambda's advice: six times the function timeout, so a batch is not delivered twice while it runs.
      visibilityTimeout: Duration.seconds(WORKER_TIMEOUT.toSeconds() * 6),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: IMPORT_MAX_RECEIVE_COUNT },
    });

    this.logGroup = new LogGroup(this, 'WorkerLogs', { retention: retentionDays(config.logRetentionDays), removalPolicy: RemovalPolicy.RETAIN });
    // Import completion e-mails go out from the sender identity, as the service functions send theirs.
    const role = executionRole(this, 'WorkerRole', 'Execution role of the import worker', this.logGroup, config.mailFrom);
    this.worker = new NodejsFunction(this, 'Worker', {
      entry: importWorkerEntry,
      handler: 'handler',
      projectRoot,
      depsLockFilePath: path.join(projectRoot, 'package-lock.json'),
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: 512,
      timeout: WORKER_TIMEOUT,
      description: 'Jobs: one bulk-import batch or one users export per message',
      // Two batches at a time per tenant-wide queue: the import never crowds out logins.
      ...(config.tracing ? { tracing: Tracing.ACTIVE } : {}),
      role,
      logGroup: this.logGroup,
      loggingFormat: LoggingFormat.JSON,
      applicationLogLevelV2: config.logLevel === 'DEBUG' ? ApplicationLogLevel.DEBUG : ApplicationLogLevel.INFO,
      systemLogLevelV2: SystemLogLevel.INFO,
      environment: workerEnvironment(handlerEnvironment(config, props.table.tableName, 'management', Stack.of(this).stackName), config),
      bundling: nodejsBundling(),
    });
    this.worker.addEventSource(
      new SqsEventSource(this.queue, { batchSize: 5, reportBatchItemFailures: true, maxConcurrency: 2 }),
    );
    // A message that failed every delivery comes back from the dead-letter queue once more: the
    // worker ends its job `failed` (a timeout or a crash on the last delivery included).
    this.worker.addEventSource(new SqsEventSource(this.deadLetterQueue, { batchSize: 10, reportBatchItemFailures: true, maxConcurrency: 2 }));
    this.worker.addEnvironment('JOB_DEAD_LETTER_QUEUE_ARN', this.deadLetterQueue.queueArn);
    props.grantTable(this.worker);
    this.queue.grantSendMessages(props.producer);
    if ('addEnvironment' in props.producer) {
      (props.producer as NodejsFunction).addEnvironment('JOB_QUEUE_URL', this.queue.queueUrl);
    }

    Validations.of(this.worker).acknowledge({
      id: 'AwsSolutions::AwsSolutions-L1',
      reason: 'Node.js 22 is the runtime the handlers are built (esbuild target node22) and tested for',
    });
    const tableLogicalId = Stack.of(this).getLogicalId(props.table.node.defaultChild as CfnElement);
    Validations.of(role).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${tableLogicalId}.Arn>/index/*]`,
      reason: 'Queries on the table GSIs (gsi1) of the one service table; index names are not known to IAM otherwise',
    });
    if (config.tracing) {
      Validations.of(role).acknowledge({
        id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
        reason: 'X-Ray PutTraceSegments/PutTelemetryRecords (tracing=true) support no resource-level permissions',
      });
    }
    Validations.of(this.deadLetterQueue).acknowledge({ id: 'AwsSolutions::AwsSolutions-SQS3', reason: 'This is the dead-letter queue of the import queue' });
  }
}

/**
 * The worker uses the table, logs, writes export files and mails import completions (to the
 * tenant's support_email, else the operator's `alarmEmail`); it calls no upstream.
 */
function workerEnvironment(env: Record<string, string>, config: DeploymentConfig): Record<string, string> {
  const { UPSTREAM_TIMEOUT_MS: _t, UPSTREAM_BUDGET_MS: _b, HOOK_BUDGET_MS: _h, ...rest } = env;
  return { ...rest, ...(config.alarmEmail ? { OPERATOR_EMAIL: config.alarmEmail } : {}), POWERTOOLS_SERVICE_NAME: 'auth0-migration-import-worker' };
}
