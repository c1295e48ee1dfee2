import { Arn, ArnFormat, Stack } from 'aws-cdk-lib';
import { Effect, PolicyStatement, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { secretNames } from '../lambdas/secrets/secret-store.js';

/**
 * Secrets Manager permissions. Secrets are created at run time per tenant under the stack's own
 * prefix `auth0-migration/<stackName>/<tenant>/...` (lambdas/secrets/scoped-secret-store.ts), so
 * grants name only that prefix and a second stack in the account stays out of reach. Secrets
 * Manager appends `-XXXXXX` to every secret ARN, matched by `-??????`.
 */
export function secretArnPattern(stack: Stack, namePattern: string): string {
  return Arn.format(
    { service: 'secretsmanager', resource: 'secret', resourceName: namePattern, arnFormat: ArnFormat.COLON_RESOURCE_NAME },
    stack,
  );
}

/** The prefix of every secret of one stack (the handlers' `SECRET_PREFIX`). */
export function secretPrefixOf(stackName: string): string {
  return `${secretNames.prefix}/${stackName}`;
}

/** The name patterns IAM grants on, for one stack. */
export function serviceSecretPatterns(stackName: string) {
  const prefix = secretPrefixOf(stackName);
  return {
    /** Every secret of every tenant of this stack. */
    all: `${prefix}/*`,
    /** The signing-key secret of every tenant (`<prefix>/<tenant>/signing-keys`). */
    signingKeys: `${prefix}/*/signing-keys-??????`,
    /** The re-mint sealing key of every tenant (`<prefix>/<tenant>/remint-key`). */
    remintKeys: `${prefix}/*/remint-key-??????`,
    /** What operators configure through the Management API: upstream client and hook secrets. */
    operatorSecrets: [`${prefix}/*/connections/*`, `${prefix}/*/migration-sources/*`, `${prefix}/*/hooks/*`],
  };
}

export const managementSecretActions = [
  'secretsmanager:CreateSecret',
  'secretsmanager:PutSecretValue',
  'secretsmanager:GetSecretValue',
  'secretsmanager:DeleteSecret',
  'secretsmanager:RestoreSecret',
  'secretsmanager:DescribeSecret',
] as const;

/**
 * The management function reads every secret of its stack (signing keys verify management
 * tokens) and creates, updates, restores and deletes only the secrets operators configure:
 * never the signing or re-mint keys.
 */
export function grantManagementSecrets(stack: Stack, grantee: IGrantable): void {
  const patterns = serviceSecretPatterns(stack.stackName);
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      sid: 'ReadServiceSecrets',
      effect: Effect.ALLOW,
      actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
      resources: [secretArnPattern(stack, patterns.all)],
    }),
  );
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      sid: 'ManageOperatorSecrets',
      effect: Effect.ALLOW,
      actions: [...managementSecretActions],
      resources: patterns.operatorSecrets.map((pattern) => secretArnPattern(stack, pattern)),
    }),
  );
}

/**
 * The token function reads every secret of its stack and creates only its own keys on a
 * tenant's first use: signing keys and the re-mint sealing key.
 */
export function grantTokenSecrets(stack: Stack, grantee: IGrantable): void {
  const patterns = serviceSecretPatterns(stack.stackName);
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      sid: 'ReadServiceSecrets',
      effect: Effect.ALLOW,
      actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
      resources: [secretArnPattern(stack, patterns.all)],
    }),
  );
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      sid: 'WriteTokenFunctionKeys',
      effect: Effect.ALLOW,
      // RestoreSecret: the adapter brings back a secret scheduled for deletion before writing it.
      actions: ['secretsmanager:CreateSecret', 'secretsmanager:PutSecretValue', 'secretsmanager:RestoreSecret'],
      resources: [secretArnPattern(stack, patterns.signingKeys), secretArnPattern(stack, patterns.remintKeys)],
    }),
  );
}
