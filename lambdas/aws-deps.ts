import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { createDeps, serviceConfigFromEnv, type Deps } from './deps.js';
import { createStdoutSink } from './logs/log-sink.js';
import { createSesMailer } from './mail/ses-mailer.js';
import { createAwsSecretStore } from './secrets/aws-secret-store.js';
import { scopeSecretNames } from './secrets/scoped-secret-store.js';
import { createDocumentClient } from './store/dynamo-client.js';

/**
 * The dependencies of a Lambda function in AWS, built once per container at module load, with
 * the function's own flows attached by `compose` (see lambdas/compose.ts): each function
 * bundles only the flows it runs.
 */
export function createAwsDeps(serviceName: string, compose: (deps: Deps) => Deps): Deps {
  const tableName = process.env.TABLE_NAME;
  if (!tableName) throw new Error('TABLE_NAME is not set');
  const config = serviceConfigFromEnv();
  return compose(
    createDeps({
      db: createDocumentClient({ requestTimeoutMs: config.storeRequestTimeoutMs }),
      tableName,
      secrets: scopeSecretNames(createAwsSecretStore({ client: new SecretsManagerClient({}) }), process.env.SECRET_PREFIX),
      sink: createStdoutSink(process.env.POWERTOOLS_SERVICE_NAME ?? serviceName),
      config,
      // The stack's verified sender identity; without it the service sends no mail.
      mailer: process.env.MAIL_FROM ? createSesMailer({ client: new SESv2Client({}), from: process.env.MAIL_FROM }) : undefined,
    }),
  );
}
