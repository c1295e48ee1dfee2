import { parseArgs } from 'node:util';
import { applyPlan } from './import-tenant/apply.js';
import { connectManagementApi, ManagementCallError } from './import-tenant/management-client.js';
import { planImport, readTargetState, type ImportPlan } from './import-tenant/plan.js';
import { readDeployCliExport } from './import-tenant/read-deploy-cli.js';
import { readUpstreamTenant } from './import-tenant/read-upstream.js';
import type { TenantExport } from './import-tenant/tenant-export.js';

const USAGE = `usage: npm run import-tenant -- (--from-upstream <auth0 domain> --upstream-client-id <id> --upstream-client-secret <secret>
                                  | --from-export <Deploy CLI directory or YAML file>)
                                 --target <https://your-domain> --client-id <id> --client-secret <secret> [--apply]
Without --apply it only prints the plan (dry run). Secrets may also come from IMPORT_UPSTREAM_CLIENT_SECRET and IMPORT_TARGET_CLIENT_SECRET.
`;

/** The base URL of an Auth0 domain or a service URL (`https://` unless it says otherwise). */
function baseOf(domainOrUrl: string): string {
  return /^https?:\/\//i.test(domainOrUrl) ? domainOrUrl.replace(/\/+$/, '') : `https://${domainOrUrl.replace(/\/+$/, '')}`;
}

export interface ImportOutcome {
  plan: ImportPlan;
  applied?: Awaited<ReturnType<typeof applyPlan>>;
}

/**
 * `npm run import-tenant`: reads the old tenant's configuration (its Management API, or an Auth0
 * Deploy CLI export), compares it with the target service and prints the plan; with `--apply`
 * it creates what is missing through the target's Management API and reports what it skipped.
 */
export async function main(
  argv: string[],
  io: { out: (s: string) => void; err: (s: string) => void; env?: NodeJS.ProcessEnv; fetch?: typeof fetch } = {
    out: (s) => process.stdout.write(s),
    err: (s) => process.stderr.write(s),
  },
): Promise<{ code: number; outcome?: ImportOutcome }> {
  const env = io.env ?? process.env;
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'from-upstream': { type: 'string' },
        'upstream-client-id': { type: 'string' },
        'upstream-client-secret': { type: 'string' },
        'from-export': { type: 'string' },
        target: { type: 'string' },
        'client-id': { type: 'string' },
        'client-secret': { type: 'string' },
        apply: { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    io.err(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    return { code: 2 };
  }
  const targetSecret = values['client-secret'] ?? env.IMPORT_TARGET_CLIENT_SECRET;
  const upstreamSecret = values['upstream-client-secret'] ?? env.IMPORT_UPSTREAM_CLIENT_SECRET;
  const fromUpstream = values['from-upstream'];
  const fromExport = values['from-export'];
  if (!values.target || !values['client-id'] || !targetSecret || (!fromUpstream === !fromExport) || (fromUpstream && (!values['upstream-client-id'] || !upstreamSecret))) {
    io.err(USAGE);
    return { code: 2 };
  }
  try {
    let source: TenantExport;
    if (fromUpstream) {
      const upstream = await connectManagementApi({ base: baseOf(fromUpstream), clientId: values['upstream-client-id']!, clientSecret: upstreamSecret!, fetch: io.fetch });
      source = await readUpstreamTenant(upstream, fromUpstream);
    } else {
      source = readDeployCliExport(fromExport!);
    }
    const target = await connectManagementApi({ base: baseOf(values.target), clientId: values['client-id'], clientSecret: targetSecret, fetch: io.fetch });
    const plan = planImport(source, await readTargetState(target));
    io.out(`Source: ${source.origin}\nTarget: ${values.target}\n\nPlan (${plan.steps.length} change(s)):\n`);
    for (const step of plan.steps) io.out(`  + ${step.label}\n`);
    if (plan.notes.length) io.out(`\nNotes:\n${plan.notes.map((n) => `  ! ${n}\n`).join('')}`);
    io.out(`\nSkipped (${plan.skipped.length}):\n${plan.skipped.map((s) => `  - ${s.item}: ${s.reason}\n`).join('')}`);
    if (!values.apply) {
      io.out('\nDry run: nothing was changed. Run again with --apply to make these changes.\n');
      return { code: 0, outcome: { plan } };
    }
    const applied = await applyPlan(target, plan);
    io.out('\nApplied:\n');
    for (const a of applied) {
      io.out(`  ${a.ok ? 'ok    ' : 'FAILED'} ${a.label}${a.error ? `: ${a.error}` : ''}\n`);
      if (a.generatedSecret) io.out(`         new client_secret for ${a.generatedSecret.client_id} (shown once): ${a.generatedSecret.client_secret}\n`);
    }
    return { code: applied.every((a) => a.ok) ? 0 : 1, outcome: { plan, applied } };
  } catch (err) {
    const message = err instanceof ManagementCallError || err instanceof Error ? err.message : String(err);
    io.err(`import-tenant: ${message}\n`);
    return { code: 1 };
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = (await main(process.argv.slice(2))).code;
}
