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
export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      table: { type: 'string' },
      tenant: { type: 'string', default: 'default' },
      domain: { type: 'string', multiple: true },
      region: { type: 'string' },
      endpoint: { type: 'string' },
      name: { type: 'string' },
    },
  });
  if (!values.table) {
    process.stderr.write('usage: bootstrap-tenant --table <TableName> [--tenant default] [--domain host]... [--region r]\n');
    return 2;
  }
  const db = createDocumentClient({ endpoint: values.endpoint, region: values.region });
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
  } finally {
    db.destroy();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main(process.argv.slice(2));
}
