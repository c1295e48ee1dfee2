/**
 * A real OpenID provider (panva's `oidc-provider`) on 127.0.0.1, standing in for Google and for
 * a company's OIDC provider: discovery, JWKS, authorization with its own login and consent
 * interactions (devInteractions), PKCE, and the code exchange. Not a hand-written fake.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

export interface ProviderAccount {
  email?: string;
  email_verified?: boolean;
  name?: string;
  given_name?: string;
  family_name?: string;
  picture?: string;
}

export interface TestProvider {
  issuer: string;
  discoveryUrl: string;
  clientId: string;
  clientSecret: string;
  /** A client registered for the implicit flow (response_type id_token, form_post): a front-channel connection's. */
  frontChannelClientId: string;
  accounts: Map<string, ProviderAccount>;
  close(): Promise<void>;
}

const FRONT_CHANNEL_CLIENT = 'front-channel-app.apps.example';

export async function startTestProvider(opts: { redirectUris: string[]; clientId?: string; clientSecret?: string }): Promise<TestProvider> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
  const accounts = new Map<string, ProviderAccount>();
  const clientId = opts.clientId ?? 'provider-app.apps.example';
  const clientSecret = opts.clientSecret ?? 'provider-app-secret-0123456789';
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: opts.redirectUris,
        token_endpoint_auth_method: 'client_secret_post',
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
      {
        client_id: FRONT_CHANNEL_CLIENT,
        // oidc-provider lets only native clients use the implicit flow with a loopback http redirect URI.
        application_type: 'native',
        redirect_uris: opts.redirectUris,
        token_endpoint_auth_method: 'none',
        grant_types: ['implicit'],
        response_types: ['id_token'],
      },
    ],
    jwks: { keys: [jwk as never] },
    cookies: { keys: ['oidc-provider-test-cookie-key'] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'given_name', 'family_name', 'picture'] },
    // As Google does: the profile claims are in the id_token itself.
    conformIdTokenClaims: false,
    pkce: { required: (_ctx: unknown, client: { clientId: string }) => client.clientId !== FRONT_CHANNEL_CLIENT },
    ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 3600, IdToken: 600, Interaction: 600, Session: 3600 },
    features: { devInteractions: { enabled: true } },
    async findAccount(_ctx: unknown, sub: string) {
      const account = accounts.get(sub);
      if (!account) return undefined;
      return { accountId: sub, claims: async () => ({ sub, ...account }) };
    },
  } as never);
  server.on('request', provider.callback());
  return {
    issuer,
    discoveryUrl: `${issuer}/.well-known/openid-configuration`,
    clientId,
    clientSecret,
    frontChannelClientId: FRONT_CHANNEL_CLIENT,
    accounts,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
