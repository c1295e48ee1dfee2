import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildTestStack, removeTestAssemblies } from './support/test-stack.js';

/**
 * The synthesized templates through cfn-lint (CloudFormation's own schema and rules), when the
 * machine has it: the plain stack and one with every option set. Errors fail; warnings do not
 * (CDK's own DependsOn next to a GetAtt is W3005).
 */
const cfnLint = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
const available = cfnLint.status === 0;
const dir = mkdtempSync(path.join(tmpdir(), 'cfn-lint-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  removeTestAssemblies();
});

describe('cfn-lint', () => {
  it.skipIf(!available)('finds no error in the synthesized templates, plain and with every option', () => {
    const variants = {
      plain: {},
      full: {
        alarmEmail: 'ops@example.com',
        domainName: 'auth.example.com',
        certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/abc',
        tracing: 'true',
        tokenReservedConcurrency: '20',
        managementReservedConcurrency: '2',
      },
    };
    const files = Object.entries(variants).map(([name, settings]) => {
      const file = path.join(dir, `${name}.json`);
      writeFileSync(file, JSON.stringify(buildTestStack({ stackName: `Lint${name}`, ...settings }).template().toJSON()));
      return file;
    });
    const run = spawnSync('cfn-lint', ['--regions', 'eu-west-1', '--format', 'parseable', '--', ...files], { encoding: 'utf8' });
    const errors = run.stdout.split('\n').filter((line) => /:E\d{4}:/.test(line));
    expect(errors).toEqual([]);
    // cfn-lint's exit code is a bit field: 2 means errors (4 warnings, 8 informational).
    expect(run.status! & 2).toBe(0);
  }, 120_000);
});
