import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { routeKey, routes, type FunctionName, type RouteDefinition } from '../../lambdas/routes.js';
import { tableSchema } from '../../lambdas/store/table.js';
import { accessLogFields, ServiceHttpApi } from '../../lib/service-http-api.js';
import { compileJsonFilterPattern } from './support/json-filter-pattern.js';
import { buildTestStack, removeTestAssemblies, renderCfn, resourcesOfType } from './support/test-stack.js';

afterAll(removeTestAssemblies);

const { stack, template: templateOf } = buildTestStack();
const template = templateOf();
const functionLogicalId = (fn: FunctionName) =>
  stack.getLogicalId(stack.serviceFunctions.functions[fn].fn.node.defaultChild as never);

/** For each API Gateway route key, the logical id of the Lambda its integration invokes. */
function wiredFunctions(t = template): Map<string, string> {
  const integrations = resourcesOfType(t, 'AWS::ApiGatewayV2::Integration');
  const wired = new Map<string, string>();
  for (const route of Object.values(resourcesOfType(t, 'AWS::ApiGatewayV2::Route'))) {
    const target = renderCfn(route.Properties!.Target); // integrations/<IntegrationId>
    const integrationId = /^integrations\/<(.+)>$/.exec(target)![1];
    const uri = renderCfn(integrations[integrationId].Properties!.IntegrationUri); // <FnId.Arn>
    wired.set(route.Properties!.RouteKey as string, /^<(.+)\.Arn>$/.exec(uri)![1]);
  }
  return wired;
}

describe('HTTP API', () => {
  it('wires every route of the route table, and nothing else, to its function', () => {
    const wired = wiredFunctions();
    expect([...wired.keys()].sort()).toEqual(routes.map((r) => routeKey(r)).sort());
    for (const route of routes) expect(wired.get(routeKey(route))).toBe(functionLogicalId(route.fn));
  });

  it('follows the table it is given, including management routes with path parameters', () => {
    const table: RouteDefinition[] = [
      { method: 'POST', path: '/oauth/token', fn: 'token' },
      { method: 'PATCH', path: '/api/v2/connections/{id}', fn: 'management' },
      { method: 'GET', path: '/api/v2/users/{id}', fn: 'management' },
    ];
    const { stack: host, config, template: hostTemplate } = buildTestStack({ stackName: 'RouteHost' });
    const { functions } = host.serviceFunctions;
    const api = new ServiceHttpApi(host, 'ProbeApi', {
      config,
      functions: { token: functions.token.fn, management: functions.management.fn },
      routeTable: table,
    });
    const apiRef = `<${host.getLogicalId(api.api.node.defaultChild as never)}>`;
    const managementArn = `<${host.getLogicalId(functions.management.fn.node.defaultChild as never)}>`;
    const wired = wiredFunctions(hostTemplate());
    const probeRoutes = Object.values(resourcesOfType(hostTemplate(), 'AWS::ApiGatewayV2::Route'))
      .filter((r) => renderCfn(r.Properties!.ApiId) === apiRef)
      .map((r) => r.Properties!.RouteKey as string);
    expect(probeRoutes.sort()).toEqual(table.map((r) => routeKey(r)).sort());
    expect(`<${wired.get('PATCH /api/v2/connections/{id}')}>`).toBe(managementArn);
  });

  it('has a $default stage with access logs to a retained log group and stage throttling', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 },
      AccessLogSettings: {
        DestinationArn: { 'Fn::GetAtt': [stack.getLogicalId(stack.httpApi.accessLogs.node.defaultChild as never), 'Arn'] },
        Format: Match.stringLikeRegexp('\\$context.requestId'),
      },
    });
  });

  it('maps a custom domain only when one is configured', () => {
    expect(Object.keys(resourcesOfType(template, 'AWS::ApiGatewayV2::DomainName'))).toHaveLength(0);
    const withDomain = buildTestStack({
      domainName: 'auth.example.com',
      certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/abc',
    }).template();
    withDomain.hasResourceProperties('AWS::ApiGatewayV2::DomainName', { DomainName: 'auth.example.com' });
    withDomain.resourceCountIs('AWS::ApiGatewayV2::ApiMapping', 1);
    // The execute-api name would answer as a second issuer next to the domain: closed.
    withDomain.hasResourceProperties('AWS::ApiGatewayV2::Api', { DisableExecuteApiEndpoint: true });
    withDomain.hasOutput('ApiUrl', { Value: 'https://auth.example.com/' });
    expect(Object.values(resourcesOfType(template, 'AWS::ApiGatewayV2::Api'))[0].Properties!.DisableExecuteApiEndpoint).toBeFalsy();
    withDomain.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ ISSUER_DOMAIN: 'auth.example.com' }) },
    });
  });
});

describe('Lambda functions', () => {
  it.each(['token', 'management'] as const)('%s runs Node 22 on arm64 with bcrypt-sized memory and JSON logs in its own log group', (fn) => {
    const resource = resourcesOfType(template, 'AWS::Lambda::Function')[functionLogicalId(fn)];
    const logGroupId = stack.getLogicalId(stack.serviceFunctions.functions[fn].logGroup.node.defaultChild as never);
    expect(resource.Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      MemorySize: 1024,
      Handler: 'index.handler',
      LoggingConfig: { LogFormat: 'JSON', ApplicationLogLevel: 'INFO', LogGroup: { Ref: logGroupId } },
    });
    expect(resourcesOfType(template, 'AWS::Logs::LogGroup')[logGroupId].Properties).toMatchObject({ RetentionInDays: 90 });
  });

  it.each(['token', 'management'] as const)('%s gets the environment the handlers read', (fn) => {
    const variables = (resourcesOfType(template, 'AWS::Lambda::Function')[functionLogicalId(fn)].Properties!.Environment as {
      Variables: Record<string, unknown>;
    }).Variables;
    expect(variables).toMatchObject({
      TABLE_NAME: { Ref: stack.getLogicalId(stack.serviceTable.table.node.defaultChild as never) },
      SECRET_PREFIX: `auth0-migration/${stack.stackName}`,
      POWERTOOLS_SERVICE_NAME: `auth0-migration-${fn}`,
      LOG_LEVEL: 'INFO',
      DEFAULT_TENANT: 'default',
      UPSTREAM_TIMEOUT_MS: '2500',
      UPSTREAM_BUDGET_MS: '4500',
      HOOK_BUDGET_MS: '5000',
    });
    expect(variables.ISSUER_DOMAIN).toBeUndefined();
  });
});

describe('Lambda operations settings', () => {
  const fnProps = (settings: Record<string, string>) => {
    const built = buildTestStack(settings);
    const t = built.template();
    return (['token', 'management'] as const).map(
      (fn) => resourcesOfType(t, 'AWS::Lambda::Function')[built.stack.getLogicalId(built.stack.serviceFunctions.functions[fn].fn.node.defaultChild as never)].Properties!,
    );
  };

  it('keeps START/REPORT lines and every auth event even at logLevel WARN (Lambda filters nothing the metrics read)', () => {
    for (const props of fnProps({ logLevel: 'WARN' })) {
      expect(props.LoggingConfig).toMatchObject({ LogFormat: 'JSON', ApplicationLogLevel: 'INFO', SystemLogLevel: 'INFO' });
      expect((props.Environment as { Variables: Record<string, string> }).Variables.LOG_LEVEL).toBe('WARN');
    }
  });

  it('reserves concurrency per function only when asked, and traces only when asked', () => {
    for (const props of fnProps({})) {
      expect(props.ReservedConcurrentExecutions).toBeUndefined();
      expect(props.TracingConfig).toBeUndefined();
    }
    const [token, management] = fnProps({ tokenReservedConcurrency: '50', managementReservedConcurrency: '5', tracing: 'true' });
    expect(token.ReservedConcurrentExecutions).toBe(50);
    expect(management.ReservedConcurrentExecutions).toBe(5);
    for (const props of [token, management]) expect(props.TracingConfig).toEqual({ Mode: 'Active' });
    expect(() => buildTestStack({ tracing: 'yes' })).toThrow(/tracing must be true or false/);
    expect(() => buildTestStack({ switchOffQuietDays: '30' })).toThrow(/at most 7/);
    // Two budgets that together would outlast the token function are refused at synth time.
    expect(() => buildTestStack({ upstreamBudgetMs: '6000', hookBudgetMs: '8000' })).toThrow(/must leave 3 s/);
  });
});

describe('DynamoDB table', () => {
  const tableId = stack.getLogicalId(stack.serviceTable.table.node.defaultChild as never);
  const table = resourcesOfType(template, 'AWS::DynamoDB::GlobalTable')[tableId];

  it('has the store\'s keys, gsi1 and TTL attribute, billed per request', () => {
    expect(table.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: tableSchema.partitionKey, KeyType: 'HASH' },
        { AttributeName: tableSchema.sortKey, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'gsi1',
          KeySchema: [
            { AttributeName: 'gsi1pk', KeyType: 'HASH' },
            { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
      TimeToLiveSpecification: { AttributeName: tableSchema.ttlAttribute, Enabled: true },
    });
  });

  it('has point-in-time recovery and deletion protection, and survives stack deletion', () => {
    const [replica] = table.Properties!.Replicas as Array<Record<string, unknown>>;
    expect(replica.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(replica.DeletionProtectionEnabled).toBe(true);
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.UpdateReplacePolicy).toBe('Retain');
  });
});

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };
/** The statements of a function's role, and the actions a resource pattern gets. */
function iamOf(built: ReturnType<typeof buildTestStack>) {
  const t = built.template();
  const statementsOf = (fn: FunctionName): Statement[] => {
    const roleId = built.stack.getLogicalId(built.stack.serviceFunctions.functions[fn].fn.role!.node.defaultChild as never);
    return Object.values(resourcesOfType(t, 'AWS::IAM::Policy'))
      .filter((p) => (p.Properties!.Roles as Array<{ Ref: string }>).some((r) => r.Ref === roleId))
      .flatMap((p) => (p.Properties!.PolicyDocument as { Statement: Statement[] }).Statement);
  };
  const actionsOn = (fn: FunctionName, resourcePattern: RegExp) =>
    statementsOf(fn)
      .filter((s) => [s.Resource].flat().some((r) => resourcePattern.test(renderCfn(r))))
      .flatMap((s) => [s.Action].flat())
      .sort();
  return { statementsOf, actionsOn };
}

/** Would an IAM resource pattern (`*` any run, `?` one character) match this ARN? */
function iamMatches(pattern: string, arn: string): boolean {
  const regex = new RegExp(`^${pattern.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('')}$`);
  return regex.test(arn);
}

describe('IAM', () => {
  const { statementsOf, actionsOn } = iamOf({ stack, template: templateOf } as ReturnType<typeof buildTestStack>);
  const tableId = stack.getLogicalId(stack.serviceTable.table.node.defaultChild as never);
  const prefix = `auth0-migration/${stack.stackName}`;
  const secretArn = (pattern: string) =>
    `arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${pattern}`;
  const allowedWildcards = new Set([
    `<${tableId}.Arn>/index/*`,
    secretArn(`${prefix}/*`),
    secretArn(`${prefix}/*/signing-keys-??????`),
    secretArn(`${prefix}/*/remint-key-??????`),
    secretArn(`${prefix}/*/connections/*`),
    secretArn(`${prefix}/*/migration-sources/*`),
    secretArn(`${prefix}/*/hooks/*`),
    `<${stack.getLogicalId(stack.exportBucket.bucket.node.defaultChild as never)}.Arn>/exports/*`,
  ]);

  it.each(['token', 'management'] as const)('%s names only its log group, the table and its stack\'s secrets, without bare *', (fn) => {
    for (const statement of statementsOf(fn)) {
      for (const resource of [statement.Resource].flat().map(renderCfn)) {
        expect(resource).not.toBe('*');
        if (resource.includes('*')) expect(allowedWildcards).toContain(resource);
      }
      expect([statement.Action].flat().some((a) => a.endsWith(':*'))).toBe(false);
    }
  });

  it.each(['token', 'management'] as const)('%s may use only the table actions the store sends (no Scan, no streams, no table management)', (fn) => {
    expect(actionsOn(fn, new RegExp(`^<${tableId}\\.Arn>$`))).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:BatchWriteItem',
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ]);
  });

  it('lets the management function read its stack\'s secrets and write only upstream client and hook secrets, untagged', () => {
    expect(actionsOn('management', new RegExp(`secret:${prefix}/\\*$`))).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
    for (const kind of ['connections', 'migration-sources', 'hooks']) {
      expect(actionsOn('management', new RegExp(`/\\*/${kind}/\\*$`))).toEqual([
        'secretsmanager:CreateSecret',
        'secretsmanager:DeleteSecret',
        'secretsmanager:DescribeSecret',
        'secretsmanager:GetSecretValue',
        'secretsmanager:PutSecretValue',
        'secretsmanager:RestoreSecret',
      ]);
    }
    const all = statementsOf('management').flatMap((s) => [s.Action].flat());
    expect(all).not.toContain('secretsmanager:TagResource');
    // The signing and re-mint keys: readable (token verification), never writable or deletable.
    for (const key of ['signing-keys', 'remint-key']) {
      const arn = `arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${prefix}/dev/${key}-AbCdEf`;
      const writable = statementsOf('management').filter(
        (s) => [s.Resource].flat().some((r) => iamMatches(renderCfn(r), arn)) && [s.Action].flat().some((a) => /Create|Put|Delete|Restore/.test(a)),
      );
      expect({ key, writable }).toEqual({ key, writable: [] });
    }
  });

  it('lets the token function read its stack\'s secrets and write only its signing and re-mint keys', () => {
    expect(actionsOn('token', new RegExp(`secret:${prefix}/\\*$`))).toEqual([
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
    ]);
    expect(actionsOn('token', /signing-keys-\?{6}$/)).toEqual([
      'secretsmanager:CreateSecret',
      'secretsmanager:PutSecretValue',
      'secretsmanager:RestoreSecret',
    ]);
    expect(actionsOn('token', /remint-key-\?{6}$/)).toEqual([
      'secretsmanager:CreateSecret',
      'secretsmanager:PutSecretValue',
      'secretsmanager:RestoreSecret',
    ]);
    const secretActions = statementsOf('token').flatMap((s) => [s.Action].flat()).filter((a) => a.startsWith('secretsmanager:'));
    expect(secretActions).not.toContain('secretsmanager:DeleteSecret');
  });

  it('gives no function an AWS managed policy', () => {
    for (const role of Object.values(resourcesOfType(template, 'AWS::IAM::Role'))) {
      expect(role.Properties!.ManagedPolicyArns).toBeUndefined();
    }
  });
});

describe('users-export bucket', () => {
  const bucketId = stack.getLogicalId(stack.exportBucket.bucket.node.defaultChild as never);
  const { statementsOf } = iamOf({ stack, template: templateOf } as ReturnType<typeof buildTestStack>);
  const onBucket = (fn: FunctionName) => statementsOf(fn).filter((s) => [s.Resource].flat().some((r) => renderCfn(r).includes(`<${bucketId}.Arn>`)));

  it('is encrypted, blocks public access, owns its objects and expires export files with their jobs', () => {
    const bucket = resourcesOfType(template, 'AWS::S3::Bucket')[bucketId];
    expect(bucket.Properties).toMatchObject({
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      LifecycleConfiguration: { Rules: [{ Status: 'Enabled', Prefix: 'exports/', ExpirationInDays: 7, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }] },
    });
  });

  it('refuses plain HTTP to the bucket', () => {
    const policy = Object.values(resourcesOfType(template, 'AWS::S3::BucketPolicy')).find((p) => renderCfn(p.Properties!.Bucket) === `<${bucketId}>`)!;
    const statements = (policy.Properties!.PolicyDocument as { Statement: Array<Record<string, unknown>> }).Statement;
    expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
  });

  it('lets the job worker only put (part by part) and abort objects under exports/, the management function only get them, and the token function nothing', () => {
    expect(onBucket('token')).toEqual([]);
    expect(onBucket('management').map((s) => [[s.Action].flat().sort(), [s.Resource].flat().map(renderCfn)])).toEqual([[['s3:GetObject'], [`<${bucketId}.Arn>/exports/*`]]]);
    const workerRole = stack.getLogicalId(stack.importJobs.worker.role!.node.defaultChild as never);
    const onBucketOfWorker = Object.values(resourcesOfType(template, 'AWS::IAM::Policy'))
      .filter((p) => (p.Properties!.Roles as Array<{ Ref: string }>).some((r) => r.Ref === workerRole))
      .flatMap((p) => (p.Properties!.PolicyDocument as { Statement: Array<{ Action: string | string[]; Resource: unknown }> }).Statement)
      .filter((s) => [s.Resource].flat().some((r) => renderCfn(r).includes(`<${bucketId}.Arn>`)));
    expect(onBucketOfWorker.map((s) => [[s.Action].flat().sort(), [s.Resource].flat().map(renderCfn)])).toEqual([[['s3:AbortMultipartUpload', 's3:PutObject'], [`<${bucketId}.Arn>/exports/*`]]]);
  });

  it('the management function no longer invokes Lambda (export jobs go to the job queue)', () => {
    expect(statementsOf('management').filter((s) => [s.Action].flat().some((a) => a.startsWith('lambda:')))).toEqual([]);
  });

  it('is named to the management function only (EXPORT_BUCKET)', () => {
    const env = (fn: FunctionName) => (resourcesOfType(template, 'AWS::Lambda::Function')[functionLogicalId(fn)].Properties!.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env('management').EXPORT_BUCKET).toEqual({ Ref: bucketId });
    expect(env('token').EXPORT_BUCKET).toBeUndefined();
  });
});

describe('two stacks in one account', () => {
  const prod = buildTestStack({ stackName: 'Prod' });
  const staging = buildTestStack({ stackName: 'Staging' });
  const secretArnOf = (stackName: string, tenant: string, name: string) =>
    `arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:auth0-migration/${stackName}/${tenant}/${name}-AbCdEf`;
  const secretsOf = ['signing-keys', 'remint-key', 'connections/con_1/client-secret', 'migration-sources/src_1/client-secret', 'hooks/h_1/secret'];

  it.each([
    ['Prod', prod, 'Staging'],
    ['Staging', staging, 'Prod'],
  ] as const)('%s can touch none of the other stack\'s secrets, and reaches its own', (name, own, other) => {
    const { statementsOf } = iamOf(own);
    for (const fn of ['token', 'management'] as const) {
      const resources = statementsOf(fn).flatMap((s) => [s.Resource].flat().map(renderCfn)).filter((r) => r.includes(':secret:'));
      for (const secret of secretsOf) {
        expect(resources.some((r) => iamMatches(r, secretArnOf(other, 'default', secret))), `${name} ${fn} → ${other} ${secret}`).toBe(false);
        expect(resources.some((r) => iamMatches(r, secretArnOf(name, 'default', secret))), `${name} ${fn} → own ${secret}`).toBe(true);
      }
    }
  });

  it('each stack tells its handlers its own secret prefix and publishes metrics under its own namespace', () => {
    const envOf = (built: typeof prod) =>
      Object.values(resourcesOfType(built.template(), 'AWS::Lambda::Function')).map(
        (f) => (f.Properties!.Environment as { Variables: Record<string, string> }).Variables.SECRET_PREFIX,
      );
    expect(new Set(envOf(prod))).toEqual(new Set(['auth0-migration/Prod']));
    expect(new Set(envOf(staging))).toEqual(new Set(['auth0-migration/Staging']));
    const namespacesOf = (built: typeof prod) => {
      const t = built.template();
      const fromFilters = Object.values(resourcesOfType(t, 'AWS::Logs::MetricFilter')).map(
        (f) => (f.Properties!.MetricTransformations as Array<{ MetricNamespace: string }>)[0].MetricNamespace,
      );
      const fromAlarms = Object.values(resourcesOfType(t, 'AWS::CloudWatch::Alarm')).flatMap((a) => {
        const p = a.Properties as { Namespace?: string; Metrics?: Array<{ MetricStat?: { Metric: { Namespace: string } } }> };
        return [p.Namespace, ...(p.Metrics ?? []).map((m) => m.MetricStat?.Metric.Namespace)].filter((n): n is string => !!n && !n.startsWith('AWS/'));
      });
      return new Set([...fromFilters, ...fromAlarms]);
    };
    expect(namespacesOf(prod)).toEqual(new Set(['Auth0Migration/Prod']));
    expect(namespacesOf(staging)).toEqual(new Set(['Auth0Migration/Staging']));
  });
});

describe('alarms', () => {
  type AlarmProps = Record<string, unknown> & { Metrics?: Array<Record<string, unknown>> };
  const alarms = Object.values(resourcesOfType(template, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties as AlarmProps);
  const metricNamesOf = (alarm: AlarmProps) =>
    alarm.MetricName
      ? [alarm.MetricName]
      : (alarm.Metrics ?? []).flatMap((m) => {
          const stat = m.MetricStat as { Metric: { MetricName: string } } | undefined;
          return stat ? [stat.Metric.MetricName] : [];
        });
  const alarmOn = (metricName: string, namespace: string) =>
    alarms.filter(
      (a) =>
        metricNamesOf(a).includes(metricName) &&
        (a.Namespace === namespace ||
          (a.Metrics ?? []).some((m) => (m.MetricStat as { Metric: { Namespace: string } } | undefined)?.Metric.Namespace === namespace)),
    );

  it('alarm on the failed-refresh rate, the upstream error rate, lockouts, Lambda errors and throttles, API 5xx, 4xx rate and latency, and throttles', () => {
    const [refresh] = alarmOn('FailedRefreshExchanges', stack.metricNamespace);
    expect(metricNamesOf(refresh).sort()).toEqual(['FailedRefreshExchanges', 'RefreshExchanges']);
    expect(refresh.Metrics!.some((m) => typeof m.Expression === 'string' && m.Expression.includes('100 * failed / all'))).toBe(true);
    const [rate] = alarmOn('UpstreamCallErrors', stack.metricNamespace);
    expect(metricNamesOf(rate).sort()).toEqual(['UpstreamCallErrors', 'UpstreamCalls']);
    expect(rate.Metrics!.some((m) => typeof m.Expression === 'string' && m.Expression.includes('errors / calls'))).toBe(true);
    expect(alarmOn('Lockouts', stack.metricNamespace)).toHaveLength(1);
    expect(alarmOn('StoreOverloads', stack.metricNamespace)).toHaveLength(1);
    expect(alarmOn('UpstreamVerifications', stack.metricNamespace)).toHaveLength(1);
    expect(alarmOn('Errors', 'AWS/Lambda')).toHaveLength(2);
    expect(alarmOn('Throttles', 'AWS/Lambda')).toHaveLength(2);
    expect(alarmOn('ApiServerErrors', stack.metricNamespace)).toHaveLength(1);
    expect(alarmOn('5xx', 'AWS/ApiGateway')).toHaveLength(0);
    expect(metricNamesOf(alarmOn('4xx', 'AWS/ApiGateway')[0]).sort()).toEqual(['4xx', 'Count']);
    expect(alarmOn('Latency', 'AWS/ApiGateway')[0]).toMatchObject({ ExtendedStatistic: 'p99', Threshold: 6000 });
    expect(alarms).toHaveLength(13);
  });

  it('watch the gsi1 throttles next to the table\'s, and Contributor Insights names the throttled keys', () => {
    const [throttles] = alarmOn('ReadThrottleEvents', 'AWS/DynamoDB');
    const dims = (throttles.Metrics ?? []).flatMap((m) => {
      const stat = m.MetricStat as { Metric: { Dimensions: Array<{ Name: string; Value: unknown }> } } | undefined;
      return stat ? [stat.Metric.Dimensions.map((d) => d.Name).sort().join('+')] : [];
    });
    expect(dims.sort()).toEqual(['GlobalSecondaryIndexName+TableName', 'GlobalSecondaryIndexName+TableName', 'TableName', 'TableName']);
    const [table] = Object.values(resourcesOfType(template, 'AWS::DynamoDB::GlobalTable'));
    const [replica] = table.Properties!.Replicas as Array<Record<string, any>>;
    expect(replica.ContributorInsightsSpecification).toMatchObject({ Enabled: true, Mode: 'THROTTLED_KEYS' });
    expect(replica.GlobalSecondaryIndexes[0].ContributorInsightsSpecification).toMatchObject({ Enabled: true, Mode: 'THROTTLED_KEYS' });
  });

  it('count as API server errors every 5xx access-log line but the designed, retryable 503', () => {
    const [filter] = Object.values(resourcesOfType(template, 'AWS::Logs::MetricFilter')).filter(
      (f) => (f.Properties!.MetricTransformations as Array<{ MetricName: string }>)[0].MetricName === 'ApiServerErrors',
    );
    expect(renderCfn(filter.Properties!.LogGroupName)).toBe(`<${stack.getLogicalId(stack.httpApi.accessLogs.node.defaultChild as never)}>`);
    const matches = compileJsonFilterPattern(filter.Properties!.FilterPattern as string);
    const line = (status: string) => JSON.stringify(Object.fromEntries(Object.keys(accessLogFields).map((k) => [k, k === 'status' ? status : '-'])));
    expect(['200', '400', '403', '429', '500', '502', '503', '504'].filter((status) => matches(line(status)))).toEqual(['500', '502', '504']);
  });

  it('notify nobody without alarmEmail, and an SNS topic with that subscription when it is set', () => {
    template.resourceCountIs('AWS::SNS::Topic', 0);
    expect(alarms.every((a) => a.AlarmActions === undefined)).toBe(true);
    const withEmail = buildTestStack({ alarmEmail: 'ops@example.com' }).template();
    withEmail.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    const notified = Object.values(resourcesOfType(withEmail, 'AWS::CloudWatch::Alarm'));
    expect(notified).toHaveLength(13);
    for (const alarm of notified) expect(alarm.Properties!.AlarmActions).toHaveLength(1);
  });

  it('let CloudWatch of this account publish to the topic, next to the Deny of plain HTTP', () => {
    const withEmail = buildTestStack({ alarmEmail: 'ops@example.com' }).template();
    const [policy] = Object.values(resourcesOfType(withEmail, 'AWS::SNS::TopicPolicy'));
    type Statement = { Effect: string; Principal: unknown; Action: string | string[]; Condition?: Record<string, Record<string, unknown>> };
    const statements = (policy.Properties!.PolicyDocument as { Statement: Statement[] }).Statement;
    const allows = statements.filter((s) => s.Effect === 'Allow');
    expect(allows).toHaveLength(1);
    expect(allows[0].Principal).toEqual({ Service: 'cloudwatch.amazonaws.com' });
    expect([allows[0].Action].flat()).toEqual(['sns:Publish']);
    expect(renderCfn(allows[0].Condition!.StringEquals['aws:SourceAccount'])).toBe('<AWS::AccountId>');
    expect(statements.some((s) => s.Effect === 'Deny' && JSON.stringify(s.Condition).includes('aws:SecureTransport'))).toBe(true);
  });
});

describe('Migration drain dashboard', () => {
  const [dashboard] = Object.values(resourcesOfType(template, 'AWS::CloudWatch::Dashboard'));
  const body = JSON.parse(renderCfn(dashboard.Properties!.DashboardBody)) as {
    widgets: Array<{ properties: { title?: string; metrics?: unknown[][] } }>;
  };
  const widget = (title: string) => {
    const found = body.widgets.find((w) => w.properties.title === title);
    expect(found, `widget "${title}"`).toBeDefined();
    return JSON.stringify(found!.properties.metrics);
  };

  it('is named after the stack', () => {
    expect(dashboard.Properties!.DashboardName).toBe(`${stack.stackName}-Migration-drain`);
  });

  it('headlines successful upstream verifications per day, with the last one and the switch-off alarm next to it', () => {
    const metrics = widget('Successful upstream verifications per day (must reach 0)');
    expect(metrics).toContain('"UpstreamVerifications"');
    expect(metrics).toContain('"period":86400');
    const last = body.widgets.find((w) => w.properties.title === 'Last successful upstream verification') as unknown as {
      properties: { query: string };
    };
    expect(last.properties.query).toContain('migration_outcome = "migrated"');
    const status = body.widgets.find((w) => w.properties.title === 'Safe to switch off the upstream?') as unknown as {
      properties: { alarms: string[] };
    };
    expect(status.properties.alarms).toHaveLength(1);
  });

  it('totals over the range shown instead of a fixed 7 days', () => {
    const single = body.widgets.find((w) => w.properties.title === 'Upstream verifications in the time range shown') as unknown as {
      properties: { setPeriodToTimeRange?: boolean };
    };
    expect(single.properties.setPeriodToTimeRange).toBe(true);
  });

  it('shows migrations per day by path', () => {
    const metrics = widget('Migrations per day by path');
    expect(metrics).toMatch(/"Migrations","path","password_fallback"/);
    expect(metrics).toMatch(/"Migrations","path","refresh_remint"/);
    expect(metrics).toMatch(/"Migrations","path","social"/);
  });

  it('shows failed exchanges and upstream latency', () => {
    expect(widget('Failed exchanges per hour')).toContain('"FailedRefreshExchanges"');
    const latency = widget('Upstream latency (ms)');
    expect(latency).toContain('"UpstreamLatency"');
    expect(latency).toContain('"stat":"p99"');
  });
});

describe('cdk-nag AwsSolutionsChecks', () => {
  it('passes with every remaining finding acknowledged, also with a custom domain, an alarm topic and tracing', () => {
    expect(() => buildTestStack({}, { nag: true }).app.synth()).not.toThrow();
    const full = buildTestStack(
      {
        alarmEmail: 'ops@example.com',
        domainName: 'auth.example.com',
        certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/abc',
        tracing: 'true',
        tokenReservedConcurrency: '20',
      },
      { nag: true },
    );
    expect(() => full.app.synth()).not.toThrow();
  });

  it('fails synthesis when findings are not acknowledged (the check is live)', async () => {
    const { App, Validations } = await import('aws-cdk-lib');
    const { AwsSolutionsChecks } = await import('cdk-nag');
    const { ServiceStack } = await import('../../lib/service-stack.js');
    const { readDeploymentConfig } = await import('../../lib/deployment-config.js');
    const { mkdtempSync, rmSync } = await import('node:fs');
    const outdir = mkdtempSync(`${(await import('node:os')).tmpdir()}/infra-nag-`);
    try {
      const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
      new ServiceStack(app, 'Unacknowledged', { config: readDeploymentConfig(() => undefined) });
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
      expect(() => app.synth()).toThrow(/AwsSolutions-APIG4/);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});

describe('cdk.json', () => {
  it('sets every feature flag the installed aws-cdk-lib recommends, at its recommended value', async () => {
    const { CURRENTLY_RECOMMENDED_FLAGS } = await import('aws-cdk-lib/cx-api');
    const { cdkJsonContext } = await import('./support/test-stack.js');
    expect(Object.keys(CURRENTLY_RECOMMENDED_FLAGS).length).toBeGreaterThan(50);
    for (const [flag, value] of Object.entries(CURRENTLY_RECOMMENDED_FLAGS)) expect({ flag, value: cdkJsonContext[flag] }).toEqual({ flag, value });
  });
});

describe('README', () => {
  it('lists exactly the environment variables the stack sets', async () => {
    const { readFileSync } = await import('node:fs');
    const { handlerEnvironment } = await import('../../lib/service-functions.js');
    const { readDeploymentConfig } = await import('../../lib/deployment-config.js');
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## Benchmarks'));
    const table = section.slice(section.indexOf('| variable | value |'));
    const listed = [...table.slice(0, table.indexOf('\n\n')).matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]).sort();
    const config = readDeploymentConfig(
      (key) => ({ domainName: 'auth.example.com', certificateArn: 'arn:aws:acm:eu-west-1:1:certificate/x', postLoginFunctionName: 'claims', mailFrom: 'auth@example.com' })[key],
    );
    expect(listed).toEqual(Object.keys(handlerEnvironment(config, 'table', 'token')).sort());
  });
});
