import { describe, expect, it } from 'vitest';
import { jsonDepth } from '../../lambdas/http/json-depth.js';

describe('jsonDepth', () => {
  it('counts nesting of arrays and objects, not brackets inside strings', () => {
    expect(jsonDepth('{"a":1}')).toBe(1);
    expect(jsonDepth('{"a":[{"b":{}}]}')).toBe(4);
    expect(jsonDepth('{"a":"[[[[{{{{\\"]]]"}')).toBe(1);
    expect(jsonDepth('[]'.repeat(3))).toBe(1);
    expect(jsonDepth(`${'['.repeat(20000)}${']'.repeat(20000)}`)).toBe(20000);
  });
});
