import type { NewUserProfile } from '../identity/create-user.js';
import { ProviderError, providerJson, type ProviderHttpDeps } from './provider-metadata.js';

/** GitHub's web and API hosts (a connection's loopback `provider_base_url` serves both in tests). */
export const GITHUB_WEB = 'https://github.com';
export const GITHUB_API = 'https://api.github.com';

interface GitHubUser {
  id?: unknown;
  login?: unknown;
  name?: unknown;
  avatar_url?: unknown;
  html_url?: unknown;
  email?: unknown;
}
interface GitHubEmail {
  email?: unknown;
  primary?: unknown;
  verified?: unknown;
}

const str = (v: unknown, max = 512) => (typeof v === 'string' && v.length > 0 ? v.slice(0, max) : undefined);

async function githubApi(deps: ProviderHttpDeps, apiBase: string, path: string, accessToken: string): Promise<unknown> {
  const { status, body } = await providerJson(deps, `${apiBase}${path}`, {
    headers: {
      accept: 'application/vnd.github+json',
      authorization: `Bearer ${accessToken}`,
      'x-github-api-version': '2022-11-28',
      // GitHub refuses API requests without a User-Agent.
      'user-agent': 'auth0-compatible-identity-service',
    },
  });
  if (status !== 200) throw new ProviderError(`provider_profile_${status}`);
  return body;
}

/**
 * The GitHub account behind an access token, as Auth0 names it: `github|<numeric id>`, nickname
 * = login, name (else the login), picture = avatar_url. The email is the primary one of
 * `/user/emails`, verified only when GitHub says so (without the `user:email` grant there is none).
 */
export async function githubIdentity(deps: ProviderHttpDeps, apiBase: string, accessToken: string): Promise<{ id: string; profile: NewUserProfile }> {
  const user = (await githubApi(deps, apiBase, '/user', accessToken)) as GitHubUser | undefined;
  const id = typeof user?.id === 'number' && Number.isSafeInteger(user.id) && user.id > 0 ? String(user.id) : undefined;
  if (!id) throw new ProviderError('provider_profile_invalid');
  let primary: GitHubEmail | undefined;
  try {
    const emails = await githubApi(deps, apiBase, '/user/emails', accessToken);
    primary = Array.isArray(emails) ? (emails as GitHubEmail[]).find((e) => e?.primary === true && str(e.email, 320)) : undefined;
  } catch (err) {
    // A token without the user:email grant gets 403/404 here: the user simply has no email.
    if (!(err instanceof ProviderError) || !/^provider_profile_(403|404)$/.test(err.reason)) throw err;
  }
  const email = str(primary?.email, 320);
  const login = str(user?.login, 255);
  return {
    id,
    profile: {
      email,
      email_verified: email ? primary?.verified === true : undefined,
      name: str(user?.name) ?? login,
      nickname: login,
      picture: str(user?.avatar_url, 2048),
      ...(str(user?.html_url, 2048) ? { upstream_profile: { html_url: str(user?.html_url, 2048) } } : {}),
    },
  };
}
