import { dictionary } from '@zxcvbn-ts/language-common';
import { describe, expect, it } from 'vitest';
import { COMMON_PASSWORDS } from '../../lambdas/identity/common-passwords.js';
import { COMMON_PASSWORDS_COUNT, commonPasswordsFrom } from '../../lambdas/identity/common-passwords-source.js';
import { checkPassword, describePolicy, NOT_IN_DICTIONARY, passwordPolicyOf } from '../../lambdas/identity/password-policy.js';
import type { ConnectionRecord } from '../../lambdas/store/records.js';

/** Auth0's `password_dictionary` on a database connection: common passwords and the connection's own words. */
const connection = (options: Record<string, unknown>) => ({ options }) as unknown as ConnectionRecord;

describe('password_dictionary', () => {
  it('the shipped list is the most common passwords of zxcvbn-ts, as bin/generate-common-passwords.ts writes it', () => {
    expect(COMMON_PASSWORDS.split('\n')).toEqual(commonPasswordsFrom(dictionary['passwords-common'], COMMON_PASSWORDS_COUNT));
    expect(COMMON_PASSWORDS.split('\n')).toHaveLength(1000);
  });

  it('refuses a common password and a word of the connection, whole and in any case, when enabled', () => {
    const policy = passwordPolicyOf(connection({ password_dictionary: { enable: true, dictionary: ['Acme-Rocket-2024'] } }));
    expect(checkPassword(policy, 'Password123')).toEqual([NOT_IN_DICTIONARY]);
    expect(checkPassword(policy, 'acme-ROCKET-2024')).toEqual([NOT_IN_DICTIONARY]);
    expect(checkPassword(policy, 'Acme-Rocket-2024-x')).toEqual([]);
    expect(describePolicy(policy)).toContain(NOT_IN_DICTIONARY);
  });

  it('changes nothing when disabled or absent', () => {
    for (const options of [{}, { password_dictionary: { enable: false, dictionary: ['password123'] } }]) {
      const policy = passwordPolicyOf(connection(options));
      expect(checkPassword(policy, 'password123')).toEqual([]);
      expect(describePolicy(policy)).not.toContain(NOT_IN_DICTIONARY);
    }
  });
});
