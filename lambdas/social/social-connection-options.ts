import * as z from 'zod/mini';
import { assertOutboundUrl, secretHint, type ManagementRequest } from '../management/endpoint.js';
import { managementErrors } from '../management/errors.js';
import { secretNames } from '../secrets/secret-store.js';
import type { ConnectionOptions } from '../store/records.js';
import type { SocialStrategy } from './social-strategies.js';

const CLIENT_ID = /^[A-Za-z0-9_.@:/-]{1,256}$/;
const scopeValue = z.union([
  z.string().check(z.maxLength(1024)),
  z.array(z.string().check(z.maxLength(128))).check(z.maxLength(50)),
]);

/** Auth0's options of an `oidc` and a `google-oauth2` connection (the ones this service acts on). */
export const socialOptionsSchema = z.strictObject({
  client_id: z.string().check(z.regex(CLIENT_ID, 'Expected a client id')),
  client_secret: z.optional(z.string().check(z.minLength(8), z.maxLength(4096))),
  discovery_url: z.optional(z.string().check(z.maxLength(2048))),
  issuer: z.optional(z.string().check(z.maxLength(2048))),
  scope: z.optional(scopeValue),
  type: z.optional(z.literal('back_channel')),
  // Auth0's Google options carry attribute switches; kept as given.
  email: z.optional(z.boolean()),
  profile: z.optional(z.boolean()),
});

export type SocialOptionsInput = z.infer<typeof socialOptionsSchema>;

/**
 * Turns the options of a request into stored options: provider URLs checked (https, or loopback
 * http when running locally), the client secret written to the secret store before the item that
 * points at it, and kept from the previous options only while the client id and the provider's
 * hosts are the same.
 */
export async function storedSocialOptions(
  req: ManagementRequest,
  strategy: SocialStrategy,
  connectionId: string,
  input: SocialOptionsInput,
  previous?: ConnectionOptions,
): Promise<ConnectionOptions> {
  const { client_secret, ...rest } = input;
  if (strategy === 'oidc' && !rest.discovery_url && !rest.issuer) {
    throw managementErrors.invalidBody(`'Expected discovery_url or issuer' on property options.discovery_url.`);
  }
  if (strategy === 'google-oauth2' && rest.discovery_url && !req.deps.config.allowLoopbackHttp) {
    throw managementErrors.invalidBody(`'Google connections use Google's discovery document' on property options.discovery_url.`);
  }
  if (rest.discovery_url) assertOutboundUrl(req.deps, rest.discovery_url, 'options.discovery_url');
  if (rest.issuer) assertOutboundUrl(req.deps, rest.issuer, 'options.issuer');
  const options: ConnectionOptions = { ...rest, type: rest.type ?? 'back_channel' };
  if (client_secret !== undefined) {
    const ref = secretNames.connectionClientSecret(req.ctx.tenant, connectionId);
    await req.deps.secrets.put(ref, client_secret);
    return { ...options, client_secret_ref: ref, client_secret_hint: secretHint(client_secret) };
  }
  // The kept secret is only ever sent to the provider it was given for: same client, same hosts.
  if (previous?.client_secret_ref && previous.client_id === rest.client_id && sameProviderHosts(previous, rest)) {
    return { ...options, client_secret_ref: previous.client_secret_ref, client_secret_hint: previous.client_secret_hint };
  }
  throw managementErrors.invalidBody(`'client_secret is required when the client_id or the provider's host change' on property options.client_secret.`);
}

const hostOf = (url: unknown) => (typeof url === 'string' ? new URL(url).host : undefined);

function sameProviderHosts(previous: ConnectionOptions, next: Omit<SocialOptionsInput, 'client_secret'>): boolean {
  return hostOf(previous.discovery_url) === hostOf(next.discovery_url) && hostOf(previous.issuer) === hostOf(next.issuer);
}
