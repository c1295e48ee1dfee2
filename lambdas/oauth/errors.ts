/** An OAuth error response `{error, error_description}` with its HTTP status (as Auth0's authentication API answers it). */
export class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
    readonly headers: Record<string, string> = {},
    readonly extra: Record<string, unknown> = {},
  ) {
    super(`${error}: ${description}`);
    this.name = 'OAuthError';
  }

  body(): Record<string, unknown> {
    return { error: this.error, error_description: this.description, ...this.extra };
  }
}

export const oauthErrors = {
  invalidRequest: (description: string) => new OAuthError(400, 'invalid_request', description),
  unsupportedGrantType: (grant: string) =>
    new OAuthError(400, 'unsupported_grant_type', `Unsupported grant type: ${grant.slice(0, 100)}`),
  invalidClient: () => new OAuthError(401, 'access_denied', 'Unauthorized'),
  unauthorizedClient: (grant: string) =>
    new OAuthError(403, 'unauthorized_client', `Grant type '${grant}' not allowed for the client.`),
  wrongCredentials: () => new OAuthError(403, 'invalid_grant', 'Wrong email or password.'),
  invalidRefreshToken: () => new OAuthError(403, 'invalid_grant', 'Unknown or invalid refresh token.'),
  userBlockedOnRefresh: () => new OAuthError(403, 'invalid_grant', 'user is blocked'),
  userBlocked: () => new OAuthError(401, 'unauthorized', 'user is blocked'),
  tooManyAttempts: () =>
    new OAuthError(
      429,
      'too_many_attempts',
      'Your account has been blocked after multiple consecutive login attempts.',
    ),
  suspiciousIp: () =>
    new OAuthError(
      429,
      'too_many_attempts',
      'We have detected suspicious login behavior and further attempts will be blocked. Please contact the administrator.',
    ),
  accessDenied: (description: string) => new OAuthError(403, 'access_denied', description),
  invalidScope: (description: string) => new OAuthError(400, 'invalid_scope', description),
  temporarilyUnavailable: (retryAfterSeconds?: number) =>
    new OAuthError(
      503,
      'temporarily_unavailable',
      'The service is temporarily unavailable, try again later.',
      retryAfterSeconds ? { 'retry-after': String(retryAfterSeconds) } : {},
    ),
  tooManyRequests: (retryAfterSeconds: number) =>
    new OAuthError(429, 'too_many_requests', 'Too many requests, try again later.', {
      'retry-after': String(retryAfterSeconds),
    }),
  invalidToken: () => new OAuthError(401, 'invalid_token', 'The access token is missing, invalid or expired.'),
};
