import { Arn, ArnFormat, Stack } from 'aws-cdk-lib';
import { Effect, PolicyStatement, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { secretNames } from '../lambdas/secrets/secret-store.js';

/**
 * Secrets Manager permissions. Secrets are created at run time per tenant under
 * `auth0-migration/<tenant>/...` (see lambdas/secrets/secret-store.ts), so grants name that
 * prefix; Secrets Manager appends `-XXXXXX` to every secret ARN, matched by `-??????`.
 */
export function secretArnPattern(stack: Stack, namePattern: string): string {
  return Arn.format(
    { service: 'secretsmanager', resource: 'secret', resourceName: namePattern, arnFormat: ArnFormat.COLON_RESOURCE_NAME },
    stack,
  );
}

/** Every secret of every tenant. */
export const ALL_SERVICE_SECRETS = `${secretNames.prefix}/*`;
/** The signing-key secret of every tenant (`auth0-migration/<tenant>/signing-keys`). */
export const SIGNING_KEY_SECRETS = `${secretNames.prefix}/*/signing-keys-??????`;
/** The re-mint sealing key of every tenant (`auth0-migration/<tenant>/remint-key`). */
export const REMINT_KEY_SECRETS = `${secretNames.prefix}/*/remint-key-??????`;

export const managementSecretActions = [
  'secretsmanager:CreateSecret',
  'secretsmanager:PutSecretValue',
  'secretsmanager:GetSecretValue',
  'secretsmanager:DeleteSecret',
  'secretsmanager:RestoreSecret',
  'secretsmanager:DescribeSecret',
  'secretsmanager:TagResource',
] as const;

/** The management function creates, updates, reads, restores and deletes upstream client secrets. */
export function grantManagementSecrets(stack: Stack, grantee: IGrantable): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      sid: 'ManageServiceSecrets',
      effect: Effect.ALLOW,
      actions: [...managementSecretActions],
      resources: [secretArnPattern(stack, ALL_SERVICE_SECRETS)],
    }),
  );
}

/**
 * The token function reads every service secret and creates only its own keys on a tenant's
 * first use: signing keys and the re-mint sealing key.
 */
export function grantTokenSecrets(stack: Stack, grantee: IGrantable): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      sid: 'ReadServiceSecrets',
      effect: Effect.ALLOW,
      actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
      resources: [secretArnPattern(stack, ALL_SERVICE_SECRETS)],
    }),
  );
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      sid: 'WriteTokenFunctionKeys',
      effect: Effect.ALLOW,
      // RestoreSecret: the adapter brings back a secret scheduled for deletion before writing it.
      actions: ['secretsmanager:CreateSecret', 'secretsmanager:PutSecretValue', 'secretsmanager:RestoreSecret'],
      resources: [secretArnPattern(stack, SIGNING_KEY_SECRETS), secretArnPattern(stack, REMINT_KEY_SECRETS)],
    }),
  );
}
