/**
 * The CDK app: `npx cdk synth|deploy [-c stackName=...] [-c domainName=... -c certificateArn=...] [-c alarmEmail=...]`.
 * Every parameter can also come from the environment (see lib/deployment-config.ts).
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readDeploymentConfig } from '../lib/deployment-config.js';
import { acknowledgeNagFindings } from '../lib/nag-acknowledgements.js';
import { ServiceStack } from '../lib/service-stack.js';

const app = new App();
const config = readDeploymentConfig((contextKey, envKey) => {
  const fromContext = app.node.tryGetContext(contextKey) as unknown;
  return fromContext === undefined ? process.env[envKey] : String(fromContext);
});
const stack = new ServiceStack(app, config.stackName, {
  config,
  stackName: config.stackName,
  description: 'Auth0-compatible token service draining an upstream Auth0 tenant by lazy migration',
  env: process.env.CDK_DEFAULT_ACCOUNT
    ? { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION }
    : undefined,
});
acknowledgeNagFindings(stack);
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
app.synth();
