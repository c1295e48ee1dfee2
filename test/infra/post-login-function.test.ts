import { afterAll, describe, expect, it } from 'vitest';
import { buildTestStack, removeTestAssemblies, renderCfn, resourcesOfType } from './support/test-stack.js';

afterAll(removeTestAssemblies);

/**
 * The post-login extension in the stack: named by context, invocable by the token function only.
 * The management function's invocation of itself (export jobs, tested with the export bucket) is left out.
 */
function invokeStatements(built: ReturnType<typeof buildTestStack>) {
  const self = `<${built.stack.getLogicalId(built.stack.serviceFunctions.functions.management.fn.node.defaultChild as never)}.Arn>`;
  return Object.values(resourcesOfType(built.template(), 'AWS::IAM::Policy')).flatMap((policy) =>
    ((policy.Properties!.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] }).Statement)
      .filter((s) => [s.Action].flat().includes('lambda:InvokeFunction'))
      .map((s) => ({ roles: renderCfn(policy.Properties!.Roles), resource: renderCfn(s.Resource) }))
      .filter((s) => s.resource !== self),
  );
}

describe('post-login function', () => {
  it('without context: no invoke permission and no extension settings', () => {
    const built = buildTestStack();
    const t = built.template();
    expect(invokeStatements(built)).toEqual([]);
    for (const fn of Object.values(resourcesOfType(t, 'AWS::Lambda::Function'))) {
      expect(JSON.stringify(fn.Properties)).not.toContain('POST_LOGIN_');
    }
  });

  it('with postLoginFunctionName: the token function gets its name, budget and failure mode, and may invoke only it', () => {
    const built = buildTestStack({ postLoginFunctionName: 'tenant-claims', postLoginTimeoutMs: '800', postLoginFailureMode: 'open' });
    const { stack } = built;
    const t = built.template();
    const tokenId = stack.getLogicalId(stack.serviceFunctions.functions.token.fn.node.defaultChild as never);
    const managementId = stack.getLogicalId(stack.serviceFunctions.functions.management.fn.node.defaultChild as never);
    const fns = resourcesOfType(t, 'AWS::Lambda::Function');
    const env = (id: string) => (fns[id].Properties!.Environment as { Variables: Record<string, string> }).Variables;
    expect(env(tokenId)).toMatchObject({ POST_LOGIN_FUNCTION_NAME: 'tenant-claims', POST_LOGIN_TIMEOUT_MS: '800', POST_LOGIN_FAILURE_MODE: 'open' });
    expect(env(managementId).POST_LOGIN_FUNCTION_NAME).toBeUndefined();
    const statements = invokeStatements(built);
    expect(statements).toHaveLength(1);
    expect(statements[0].resource).toMatch(/:lambda:.*:function:tenant-claims$/);
    const tokenRole = renderCfn((fns[tokenId].Properties as { Role: unknown }).Role);
    expect(tokenRole).toContain(statements[0].roles.replace(/^<|>$/g, '').split('.')[0].replace(/<|>/g, ''));
  });
});
