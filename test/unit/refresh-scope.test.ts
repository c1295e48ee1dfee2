import { describe, expect, it } from 'vitest';
import { OAuthError } from '../../lambdas/oauth/errors.js';
import { narrowScope } from '../../lambdas/oauth/refresh-token-grant.js';

describe('narrowScope (refresh grant scope parameter)', () => {
  it('keeps the original scope when none is asked', () => {
    expect(narrowScope('openid profile offline_access', undefined)).toBe('openid profile offline_access');
    expect(narrowScope('openid profile', '')).toBe('openid profile');
  });

  it('narrows to a subset, in the order asked, without duplicates or extra spaces', () => {
    expect(narrowScope('openid profile email offline_access', ' email  openid email ')).toBe('email openid');
  });

  it('refuses a scope outside the original with 400 invalid_scope', () => {
    let caught: unknown;
    try {
      narrowScope('openid profile', 'openid read:admin');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(OAuthError);
    expect(caught).toMatchObject({ status: 400, error: 'invalid_scope' });
  });
});
