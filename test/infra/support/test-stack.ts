import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readDeploymentConfig } from '../../../lib/deployment-config.js';
import { acknowledgeNagFindings } from '../../../lib/nag-acknowledgements.js';
import { ServiceStack } from '../../../lib/service-stack.js';

const outdirs: string[] = [];
/** The context `cdk synth|deploy` reads from cdk.json (feature flags included), so tests synthesize what deploys. */
export const cdkJsonContext = (JSON.parse(readFileSync(new URL('../../../cdk.json', import.meta.url), 'utf8')) as { context: Record<string, unknown> }).context;

/**
 * The service stack as `bin/app.ts` builds it, with asset bundling skipped through the CDK's
 * own `aws:cdk:bundling-stacks` context, so tests stay fast; `npm run synth` bundles for real.
 */
export function buildTestStack(settings: Record<string, string> = {}, options: { nag?: boolean } = {}) {
  const outdir = mkdtempSync(path.join(tmpdir(), 'infra-test-'));
  outdirs.push(outdir);
  const app = new App({ outdir, context: { ...cdkJsonContext, 'aws:cdk:bundling-stacks': [] } });
  const config = readDeploymentConfig((key) => settings[key]);
  const stack = new ServiceStack(app, config.stackName, { config, stackName: config.stackName });
  acknowledgeNagFindings(stack);
  if (options.nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack, config, template: () => Template.fromStack(stack) };
}

/** Removes the cloud assemblies written by buildTestStack (call in afterAll). */
export function removeTestAssemblies(): void {
  for (const dir of outdirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown>; DeletionPolicy?: string; UpdateReplacePolicy?: string }>;

export function resourcesOfType(template: Template, type: string): Resources {
  return template.findResources(type) as Resources;
}

/** A CloudFormation value rendered as text: tokens become `<LogicalId.Attr>` / `<Ref>`. */
export function renderCfn(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(renderCfn).join(',');
  if (value && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    if ('Ref' in obj) return `<${String(obj.Ref)}>`;
    if ('Fn::GetAtt' in obj) return `<${(obj['Fn::GetAtt'] as string[]).join('.')}>`;
    if ('Fn::Join' in obj) {
      const [separator, parts] = obj['Fn::Join'] as [string, unknown[]];
      return parts.map(renderCfn).join(separator);
    }
  }
  return JSON.stringify(value);
}
