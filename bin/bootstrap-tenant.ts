import { parseArgs } from 'node:util';
import { createDeps } from '../lambdas/deps.js';
import { createSilentSink } from '../lambdas/logs/log-sink.js';
import { createLocalSecretStore } from '../lambdas/secrets/local-secret-store.js';
import { createDocumentClient } from '../lambdas/store/dynamo-client.js';
import { bootstrapTenant } from './tenant-bootstrap.js';

/**
 * `npm run bootstrap-tenant -- --table <TableName> [--tenant default] [--domain auth.example.com]
 *   [--region eu-west-1] [--endpoint http://127.0.0.1:8000]`
 *
 * Creates a deployed stack's first tenant straight in its DynamoDB table (with your AWS
 * credentials) and prints the Management API client's id and secret, once. Run it once per
 * tenant after `cdk deploy`; it refuses to touch a tenant that exists.
 */
const USAGE = `usage: npm run bootstrap-tenant -- --table <TableName> [options]

Creates a deployed stack's first tenant in its DynamoDB table and prints its Management API
client id and secret, once. Uses your AWS credentials (AWS_PROFILE, environment, SSO...).

  --table <name>       the stack's TableName output (required)
  --tenant <id>        tenant id (default: default)
  --domain <host>      a custom domain of the tenant; repeat for several
  --name <text>        the tenant's friendly name
  --region <region>    AWS region (default: AWS_REGION, else your profile's region)
  --endpoint <url>     a DynamoDB endpoint other than AWS's (e.g. a local engine)
  -h, --help           this text
`;

/** What went wrong, in one line: never a stack trace or a raw SDK dump. */
function describeFailure(err: unknown, table: string, region: string | undefined): string {
  const name = (err as Error)?.name ?? 'Error';
  const message = String((err as Error)?.message ?? err).split('\n')[0];
  if (name === 'ResourceNotFoundException') return `table "${table}" not found${region ? ` in ${region}` : ''}: use the TableName output of the stack (and its region)`;
  if ((err as { code?: string })?.code === 'ECONNREFUSED' || /ECONNREFUSED/.test(message)) return `cannot reach DynamoDB (${message})`;
  if (/region is missing/i.test(message)) return 'no AWS region: pass --region, set AWS_REGION, or give your profile a region';
  if (name === 'CredentialsProviderError' || /credential/i.test(message)) return `no usable AWS credentials (${message})`;
  if (name === 'AccessDeniedException' || name === 'UnrecognizedClientException') return `AWS refused the request (${name}): check the credentials' account and permissions`;
  return `${name}: ${message}`;
}

export async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        table: { type: 'string' },
        tenant: { type: 'string', default: 'default' },
        domain: { type: 'string', multiple: true },
        region: { type: 'string' },
        endpoint: { type: 'string' },
        name: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    process.stderr.write(`bootstrap-tenant: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (!values.table) {
    process.stderr.write(`bootstrap-tenant: --table is required\n\n${USAGE}`);
    return 2;
  }
  const region = values.region ?? (process.env.AWS_REGION || undefined);
  const db = createDocumentClient({ endpoint: values.endpoint, region });
  // The bootstrap writes no secret: signing keys are created by the token function on first use.
  const deps = createDeps({ db, tableName: values.table, secrets: createLocalSecretStore(), sink: createSilentSink() });
  try {
    const created = await bootstrapTenant(deps, { tenant: values.tenant!, domains: values.domain, friendlyName: values.name });
    if (!created) {
      process.stderr.write(`tenant "${values.tenant}" exists already; nothing changed\n`);
      return 1;
    }
    process.stdout.write(
      `${JSON.stringify(
        {
          tenant: created.tenant,
          connection: created.connection,
          management_client_id: created.managementClient.client_id,
          management_client_secret: created.managementClient.client_secret,
        },
        null,
        2,
      )}\n`,
    );
    return 0;
  } catch (err) {
    process.stderr.write(`bootstrap-tenant: ${describeFailure(err, values.table, region ?? (await db.config.region().catch(() => undefined)))}\n`);
    return 1;
  } finally {
    db.destroy();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main(process.argv.slice(2));
}
