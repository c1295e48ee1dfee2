import { Validations, type CfnElement } from 'aws-cdk-lib';
import type { FunctionName } from '../lambdas/routes.js';
import { serviceSecretPatterns } from './secret-access.js';
import type { ServiceStack } from './service-stack.js';

const PACK = 'AwsSolutions::';

/** Why routes have no API Gateway authorizer: each function authenticates its callers itself. */
const routeAuthorizationReasons: Record<FunctionName, string> = {
  token:
    'OAuth/OIDC endpoints are public by design: clients authenticate in the request (client secret, refresh token, Bearer token) as with Auth0',
  management:
    'Management API v2 checks the Bearer JWT (issuer, audience https://<domain>/api/v2/, scopes) in the handler, as Auth0 does',
};

/** Findings left by AwsSolutionsChecks, each acknowledged with the reason it is accepted. */
export function acknowledgeNagFindings(stack: ServiceStack): void {
  for (const { definition, route } of stack.httpApi.wiredRoutes) {
    Validations.of(route).acknowledge({ id: `${PACK}AwsSolutions-APIG4`, reason: routeAuthorizationReasons[definition.fn] });
  }

  const tableLogicalId = stack.getLogicalId(stack.serviceTable.table.node.defaultChild as CfnElement);
  const secrets = serviceSecretPatterns(stack.stackName);
  const secretArn = (pattern: string) =>
    `arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${pattern}`;
  for (const [name, { fn }] of Object.entries(stack.serviceFunctions.functions)) {
    Validations.of(fn).acknowledge({
      id: `${PACK}AwsSolutions-L1`,
      reason: 'Node.js 22 is the runtime the handlers are built (esbuild target node22) and tested for',
    });
    const role = fn.role!;
    Validations.of(role).acknowledge({
      id: `${PACK}AwsSolutions-IAM5[Resource::<${tableLogicalId}.Arn>/index/*]`,
      reason: 'Queries on the table GSIs (gsi1) of the one service table; index names are not known to IAM otherwise',
    });
    Validations.of(role).acknowledge({
      id: `${PACK}AwsSolutions-IAM5[Resource::${secretArn(secrets.all)}]`,
      reason: 'Secrets are created at run time per tenant and connection under this stack\'s prefix auth0-migration/<stackName>/',
    });
    if (stack.tracingEnabled) {
      Validations.of(role).acknowledge({
        id: `${PACK}AwsSolutions-IAM5[Resource::*]`,
        reason: 'X-Ray PutTraceSegments/PutTelemetryRecords (tracing=true) support no resource-level permissions',
      });
    }
    if (name === 'management') {
      for (const pattern of secrets.operatorSecrets) {
        Validations.of(role).acknowledge({
          id: `${PACK}AwsSolutions-IAM5[Resource::${secretArn(pattern)}]`,
          reason: 'Upstream client and hook secrets are created per tenant and object at run time; only these kinds are writable',
        });
      }
    }
    if (name === 'token') {
      Validations.of(role).acknowledge({
        id: `${PACK}AwsSolutions-IAM5[Resource::${secretArn(secrets.signingKeys)}]`,
        reason: 'Each tenant gets its signing-key secret on first use; only names ending in /signing-keys are writable',
      });
      Validations.of(role).acknowledge({
        id: `${PACK}AwsSolutions-IAM5[Resource::${secretArn(secrets.remintKeys)}]`,
        reason: 'Each tenant gets its re-mint sealing key on first use; only names ending in /remint-key are writable',
      });
    }
  }

  const exportBucket = stack.exportBucket.bucket;
  Validations.of(exportBucket).acknowledge({
    id: `${PACK}AwsSolutions-S1`,
    reason: 'Export files are written only by the job worker and presigned only by the management function (their requests are in their logs and CloudTrail) and expire within days; access logs would need a second bucket',
  });
  Validations.of(stack.serviceFunctions.functions.management.fn.role!).acknowledge({
    id: `${PACK}AwsSolutions-IAM5[Resource::<${stack.getLogicalId(exportBucket.node.defaultChild as CfnElement)}.Arn>/exports/*]`,
    reason: 'Export files are named per tenant and job at run time; only objects under exports/ of the export bucket, get only (presigned downloads)',
  });
  Validations.of(stack.importJobs.worker.role!).acknowledge({
    id: `${PACK}AwsSolutions-IAM5[Resource::<${stack.getLogicalId(exportBucket.node.defaultChild as CfnElement)}.Arn>/exports/*]`,
    reason: 'Export files are named per tenant and job at run time; only objects under exports/ of the export bucket, put (multipart) and abort only',
  });

  const topic = stack.alarms.topic;
  if (topic) {
    Validations.of(topic).acknowledge({
      id: `${PACK}AwsSolutions-SNS2`,
      reason: 'Alarm notifications carry no secrets; CloudWatch alarms cannot publish to a topic under the AWS-managed SNS key',
    });
  }
}
