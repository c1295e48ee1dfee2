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

  it('with mailFrom: both functions get MAIL_FROM and ses:SendEmail on that identity (and its domain) only', () => {
    const t = buildTestStack({ mailFrom: 'auth@example.com' }).template();
    const statements = sesStatements(t);
    expect(statements).toHaveLength(2);
    for (const s of statements) {
      expect(s.Action).toBe('ses:SendEmail');
      const resources = (s.Resource as unknown[]).map(renderCfn);
      expect(resources).toHaveLength(2);
      expect(resources[0]).toMatch(/:ses:.*:identity\/auth@example\.com$/);
      expect(resources[1]).toMatch(/:ses:.*:identity\/example\.com$/);
    }
    const all = Object.values(resourcesOfType(t, 'AWS::Lambda::Function')).filter((f) => JSON.stringify(f.Properties).includes('TABLE_NAME'));
    // The import worker reads the table but sends no mail.
    const isWorker = (f: (typeof all)[number]) => JSON.stringify(f.Properties).includes('auth0-migration-import-worker');
    expect(all.filter(isWorker).every((f) => !JSON.stringify(f.Properties).includes('MAIL_FROM'))).toBe(true);
    const fns = all.filter((f) => !isWorker(f));
    expect(fns).toHaveLength(2);
    for (const f of fns) expect((f.Properties!.Environment as { Variables: Record<string, unknown> }).Variables.MAIL_FROM).toBe('auth@example.com');
  });
});
