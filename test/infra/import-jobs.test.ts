import { afterAll, describe, expect, it } from 'vitest';
import type { IConstruct } from 'constructs';
import { IMPORT_MAX_RECEIVE_COUNT } from '../../lib/import-jobs.js';
import { buildTestStack, removeTestAssemblies, renderCfn, resourcesOfType } from './support/test-stack.js';

/** The bulk-import queue, its dead-letter queue and the worker, as synthesized. */
const built = buildTestStack();
const template = built.template();
const { stack } = built;
const idOf = (c: IConstruct) => stack.getLogicalId(c.node.defaultChild as never);
afterAll(() => removeTestAssemblies());

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };
function statementsOfRole(roleId: string): Statement[] {
  return Object.values(resourcesOfType(template, 'AWS::IAM::Policy'))
    .filter((p) => (p.Properties!.Roles as Array<{ Ref: string }>).some((r) => r.Ref === roleId))
    .flatMap((p) => (p.Properties!.PolicyDocument as { Statement: Statement[] }).Statement);
}

describe('import jobs', () => {
  const queueId = idOf(stack.importJobs.queue);
  const dlqId = idOf(stack.importJobs.deadLetterQueue);
  const queues = resourcesOfType(template, 'AWS::SQS::Queue');

  it('sends a batch to the dead-letter queue after five deliveries; both queues are encrypted', () => {
    expect(queues[queueId].Properties!.RedrivePolicy).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: IMPORT_MAX_RECEIVE_COUNT });
    for (const id of [queueId, dlqId]) expect(queues[id].Properties!.SqsManagedSseEnabled).toBe(true);
    // Longer than the worker may run, so a batch in progress is not delivered again.
    const worker = resourcesOfType(template, 'AWS::Lambda::Function')[idOf(stack.importJobs.worker)];
    expect(queues[queueId].Properties!.VisibilityTimeout).toBeGreaterThanOrEqual(6 * (worker.Properties!.Timeout as number));
  });

  it('refuses plain-http access to both queues', () => {
    const policies = Object.values(resourcesOfType(template, 'AWS::SQS::QueuePolicy'));
    for (const id of [queueId, dlqId]) {
      const policy = policies.find((p) => renderCfn(p.Properties!.Queues).includes(id));
      const statements = (policy!.Properties!.PolicyDocument as { Statement: Array<Record<string, unknown>> }).Statement;
      expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
    }
  });

  it('feeds the worker from the queue with partial batch failures (only the failed records come back)', () => {
    const mappings = Object.values(resourcesOfType(template, 'AWS::Lambda::EventSourceMapping'));
    expect(mappings).toHaveLength(2);
    const fromQueue = mappings.find((m) => renderCfn(m.Properties!.EventSourceArn) === `<${queueId}.Arn>`)!;
    expect(fromQueue.Properties).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      FunctionName: { Ref: idOf(stack.importJobs.worker) },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 2 },
    });
  });

  it('feeds the worker from the dead-letter queue too, and tells it which queue that is (a job failed for good ends failed)', () => {
    const mappings = Object.values(resourcesOfType(template, 'AWS::Lambda::EventSourceMapping'));
    const fromDlq = mappings.find((m) => renderCfn(m.Properties!.EventSourceArn) === `<${dlqId}.Arn>`)!;
    expect(fromDlq.Properties).toMatchObject({ FunctionName: { Ref: idOf(stack.importJobs.worker) }, FunctionResponseTypes: ['ReportBatchItemFailures'] });
    const worker = resourcesOfType(template, 'AWS::Lambda::Function')[idOf(stack.importJobs.worker)].Properties as any;
    expect(renderCfn(worker.Environment.Variables.JOB_DEAD_LETTER_QUEUE_ARN)).toBe(`<${dlqId}.Arn>`);
    expect(renderCfn(worker.Environment.Variables.EXPORT_BUCKET)).toBe(`<${idOf(stack.exportBucket.bucket)}>`);
  });

  it('runs Node 22 on arm64, tells the worker the table, and the management function the queue', () => {
    const fns = resourcesOfType(template, 'AWS::Lambda::Function');
    const worker = fns[idOf(stack.importJobs.worker)].Properties as any;
    expect(worker).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'] });
    expect(renderCfn(worker.Environment.Variables.TABLE_NAME)).toContain(idOf(stack.serviceTable.table));
    const management = fns[idOf(stack.serviceFunctions.functions.management.fn)].Properties as any;
    expect(renderCfn(management.Environment.Variables.JOB_QUEUE_URL)).toBe(`<${queueId}>`);
  });

  it('gives the worker only its log group, the table, consuming its queues and writing export files; the management function only sending to the queue', () => {
    const tableId = idOf(stack.serviceTable.table);
    const workerStatements = statementsOfRole(idOf(stack.importJobs.worker.role!));
    for (const s of workerStatements) {
      for (const resource of [s.Resource].flat().map(renderCfn)) {
        expect(resource).not.toBe('*');
        expect(
          resource.startsWith(`<${tableId}.Arn>`) ||
            resource === `<${queueId}.Arn>` ||
            resource === `<${dlqId}.Arn>` ||
            resource === `<${idOf(stack.exportBucket.bucket)}.Arn>/exports/*` ||
            resource.includes(idOf(stack.importJobs.logGroup)),
        ).toBe(true);
      }
    }
    const on = (id: string) => workerStatements.filter((s) => [s.Resource].flat().map(renderCfn).includes(`<${id}.Arn>`)).flatMap((s) => [s.Action].flat());
    expect(on(dlqId).sort()).toEqual(['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage']);
    const onQueue = on(queueId);
    expect(onQueue.sort()).toEqual(['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage']);
    expect(workerStatements.flatMap((s) => [s.Action].flat()).some((a) => a.startsWith('secretsmanager:'))).toBe(false);

    const managementStatements = statementsOfRole(idOf(stack.serviceFunctions.functions.management.fn.role!));
    const managementOnQueue = managementStatements.filter((s) => renderCfn(s.Resource) === `<${queueId}.Arn>`).flatMap((s) => [s.Action].flat());
    expect(managementOnQueue.sort()).toEqual(['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage']);
    expect(managementStatements.some((s) => renderCfn(s.Resource) === `<${dlqId}.Arn>`)).toBe(false);
  });
});
