import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { ApplicationLogLevel, Architecture, LoggingFormat, Runtime, SystemLogLevel, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import path from 'node:path';
import type { FunctionName } from '../lambdas/routes.js';
import { TOKEN_TIMEOUT_MS, type DeploymentConfig } from './deployment-config.js';
import { secretPrefixOf } from './secret-access.js';
import { handlerEntries, nodejsBundling, projectRoot } from './handler-bundling.js';

/** Per-function sizing: bcrypt (cost 10) is CPU bound and Lambda CPU scales with memory. */
const functionSizing: Record<FunctionName, { memorySize: number; timeout: Duration; description: string }> = {
  token: { memorySize: 1024, timeout: Duration.millis(TOKEN_TIMEOUT_MS), description: 'OAuth token, userinfo and discovery endpoints' },
  management: { memorySize: 1024, timeout: Duration.seconds(29), description: 'Auth0 Management API v2' },
};

export interface ServiceFunctionsProps {
  readonly config: DeploymentConfig;
  readonly tableName: string;
}

export interface ServiceFunction {
  readonly fn: NodejsFunction;
  readonly logGroup: LogGroup;
}

export function retentionDays(days: number): RetentionDays {
  const allowed = Object.values(RetentionDays).filter((v): v is RetentionDays => typeof v === 'number');
  if (!allowed.includes(days as RetentionDays)) {
    throw new Error(`logRetentionDays must be one of ${allowed.join(', ')}, got ${days}`);
  }
  return days as RetentionDays;
}

/** The environment each handler reads (see the handlers' config). */
export function handlerEnvironment(
  config: DeploymentConfig,
  tableName: string,
  fnName: FunctionName,
  stackName: string = config.stackName,
): Record<string, string> {
  return {
    TABLE_NAME: tableName,
    SECRET_PREFIX: secretPrefixOf(stackName),
    ...(config.domainName ? { ISSUER_DOMAIN: config.domainName } : {}),
    POWERTOOLS_SERVICE_NAME: `auth0-migration-${fnName}`,
    LOG_LEVEL: config.logLevel,
    DEFAULT_TENANT: config.defaultTenant,
    UPSTREAM_TIMEOUT_MS: String(config.upstreamTimeoutMs),
    UPSTREAM_BUDGET_MS: String(config.upstreamBudgetMs),
    HOOK_BUDGET_MS: String(config.hookBudgetMs),
    ...(config.mailFrom ? { MAIL_FROM: config.mailFrom } : {}),
    ...(fnName === 'token' && config.postLoginFunctionName
      ? {
          POST_LOGIN_FUNCTION_NAME: config.postLoginFunctionName,
          POST_LOGIN_TIMEOUT_MS: String(config.postLoginTimeoutMs),
          POST_LOGIN_FAILURE_MODE: config.postLoginFailureMode,
        }
      : {}),
  };
}

/**
 * A function's own role instead of AWSLambdaBasicExecutionRole: it may only write to its log
 * group and, when the deployment sends mail, send from the sender identity (the address or its
 * verified domain), nothing else of SES. Callers add what else the function needs.
 */
export function executionRole(scope: Construct, id: string, description: string, logGroup: LogGroup, mailFrom?: string): Role {
  const role = new Role(scope, id, { assumedBy: new ServicePrincipal('lambda.amazonaws.com'), description });
  role.addToPrincipalPolicy(
    new PolicyStatement({
      sid: 'WriteOwnLogs',
      effect: Effect.ALLOW,
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [logGroup.logGroupArn],
    }),
  );
  if (mailFrom) {
    const identities = [mailFrom, mailFrom.split('@')[1]].filter((x): x is string => !!x);
    role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'SendMailFromSenderIdentity',
        effect: Effect.ALLOW,
        actions: ['ses:SendEmail'],
        resources: identities.map((i) => Stack.of(scope).formatArn({ service: 'ses', resource: 'identity', resourceName: i })),
      }),
    );
  }
  return role;
}

/** The token and management Lambdas: esbuild bundles, arm64, Node 22, JSON logs in explicit log groups. */
export class ServiceFunctions extends Construct {
  readonly functions: Record<FunctionName, ServiceFunction>;

  constructor(scope: Construct, id: string, props: ServiceFunctionsProps) {
    super(scope, id);
    const names = Object.keys(handlerEntries) as FunctionName[];
    this.functions = Object.fromEntries(names.map((name) => [name, this.createFunction(name, props)])) as Record<
      FunctionName,
      ServiceFunction
    >;
  }

  private createFunction(name: FunctionName, { config, tableName }: ServiceFunctionsProps): ServiceFunction {
    const logGroup = new LogGroup(this, `${pascal(name)}Logs`, {
      retention: retentionDays(config.logRetentionDays),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const role = executionRole(this, `${pascal(name)}Role`, `Execution role of the ${name} function`, logGroup, config.mailFrom);
    const sizing = functionSizing[name];
    const reserved = name === 'token' ? config.tokenReservedConcurrency : config.managementReservedConcurrency;
    const fn = new NodejsFunction(this, `${pascal(name)}Function`, {
      entry: handlerEntries[name],
      handler: 'handler',
      projectRoot,
      depsLockFilePath: path.join(projectRoot, 'package-lock.json'),
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: sizing.memorySize,
      timeout: sizing.timeout,
      description: sizing.description,
      ...(reserved !== undefined ? { reservedConcurrentExecutions: reserved } : {}),
      ...(config.tracing ? { tracing: Tracing.ACTIVE } : {}),
      role,
      logGroup,
      loggingFormat: LoggingFormat.JSON,
      // Lambda filters no line the metrics read: LOG_LEVEL quiets diagnostics in the handler, while
      // auth events and upstream calls (INFO) are always printed. INFO system lines keep START/REPORT
      // (Init Duration, Max Memory Used).
      applicationLogLevelV2: config.logLevel === 'DEBUG' ? ApplicationLogLevel.DEBUG : ApplicationLogLevel.INFO,
      systemLogLevelV2: SystemLogLevel.INFO,
      environment: handlerEnvironment(config, tableName, name, Stack.of(this).stackName),
      bundling: nodejsBundling(),
    });
    return { fn, logGroup };
  }
}

function pascal(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}
