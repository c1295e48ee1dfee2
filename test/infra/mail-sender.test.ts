import { afterAll, describe, expect, it } from 'vitest';
import { buildTestStack, removeTestAssemblies, renderCfn, resourcesOfType } from './support/test-stack.js';

afterAll(removeTestAssemblies);

function sesStatements(template: ReturnType<ReturnType<typeof buildTestStack>['template']>) {
  const out: { Action: unknown; Resource: unknown }[] = [];
  for (const policy of Object.values(resourcesOfType(template, 'AWS::IAM::Policy'))) {
    const doc = policy.Properties!.PolicyDocument as { Statement: { Action: unknown; Resource: unknown }[] };
    for (const s of doc.Statement) if (JSON.stringify(s.Action).includes('ses:')) out.push(s);
  }
  return out;
}

/** The SES sender: named by context, the only identity the functions may send from. */
describe('mail sender in the stack', () => {
  it('without mailFrom: no SES permission and no MAIL_FROM', () => {
    const t = buildTestStack().template();
    expect(sesStatements(t)).toEqual([]);
    expect(JSON.stringify(t.toJSON())).not.toContain('MAIL_FROM');
  });

  it("gives the job worker the operator's address (alarmEmail) for import completion e-mails, only when it is set", () => {
    const workerEnv = (t: ReturnType<ReturnType<typeof buildTestStack>['template']>) =>
      Object.values(resourcesOfType(t, 'AWS::Lambda::Function'))
        .map((f) => (f.Properties!.Environment as { Variables: Record<string, unknown> } | undefined)?.Variables ?? {})
        .find((v) => v.POWERTOOLS_SERVICE_NAME === 'auth0-migration-import-worker')!;
    expect(workerEnv(buildTestStack().template()).OPERATOR_EMAIL).toBeUndefined();
    expect(workerEnv(buildTestStack({ alarmEmail: 'ops@example.com' }).template()).OPERATOR_EMAIL).toBe('ops@example.com');
  });

  it('with mailFrom: both functions and the job worker (import completion e-mails) get MAIL_FROM and ses:SendEmail on that identity (and its domain) only', () => {
    const t = buildTestStack({ mailFrom: 'auth@example.com' }).template();
    const statements = sesStatements(t);
    expect(statements).toHaveLength(3);
    for (const s of statements) {
      expect(s.Action).toBe('ses:SendEmail');
      const resources = (s.Resource as unknown[]).map(renderCfn);
      expect(resources).toHaveLength(2);
      expect(resources[0]).toMatch(/:ses:.*:identity\/auth@example\.com$/);
      expect(resources[1]).toMatch(/:ses:.*:identity\/example\.com$/);
    }
    const all = Object.values(resourcesOfType(t, 'AWS::Lambda::Function')).filter((f) => JSON.stringify(f.Properties).includes('TABLE_NAME'));
    expect(all).toHaveLength(3);
    for (const f of all) expect((f.Properties!.Environment as { Variables: Record<string, unknown> }).Variables.MAIL_FROM).toBe('auth@example.com');
  });
});
