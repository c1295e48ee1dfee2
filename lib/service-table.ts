import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, Billing, ContributorInsightsMode, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { tableSchema } from '../lambdas/store/table.js';

/**
 * Every DynamoDB action the handlers send (lambdas/store): no Scan, no stream reads, no table
 * management. BatchWriteItem carries the deletes of a request's final write.
 */
export const tableDataActions = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
] as const;

/**
 * The single DynamoDB table, built from the same schema the embedded engine uses. Holds users
 * and password hashes, so it outlives the stack: retained on deletion, protected, with PITR.
 */
export class ServiceTable extends Construct {
  readonly table: TableV2;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = new TableV2(this, 'Table', {
      partitionKey: { name: tableSchema.partitionKey, type: AttributeType.STRING },
      sortKey: { name: tableSchema.sortKey, type: AttributeType.STRING },
      billing: Billing.onDemand(),
      timeToLiveAttribute: tableSchema.ttlAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      // Which keys are throttled (one tenant's GSI key is shared by all its users): billed only
      // for throttled requests, unlike the accessed-keys mode.
      contributorInsightsSpecification: { enabled: true, mode: ContributorInsightsMode.THROTTLED_KEYS },
      globalSecondaryIndexes: tableSchema.globalSecondaryIndexes.map((index) => ({
        indexName: index.indexName,
        partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
        sortKey: { name: index.sortKey, type: AttributeType.STRING },
        contributorInsightsSpecification: { enabled: true, mode: ContributorInsightsMode.THROTTLED_KEYS },
      })),
    });
  }

  /** The data actions the handlers use, on the table and its indexes. */
  grantHandlerAccess(grantee: IGrantable): void {
    this.table.grant(grantee, ...tableDataActions);
  }
}
