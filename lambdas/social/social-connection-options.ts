import * as z from 'zod/mini';
import type { Deps } from '../deps.js';
import { assertOutboundUrl, secretHint, type ManagementRequest } from '../management/endpoint.js';
import { managementErrors } from '../management/errors.js';
import { secretNames } from '../secrets/secret-store.js';
import type { ConnectionOptions } from '../store/records.js';
import { isAppleSigningKey } from './apple-client-secret.js';
import type { SocialStrategy } from './social-strategies.js';

const CLIENT_ID = /^[A-Za-z0-9_.@:/-]{1,256}$/;
const APPLE_ID = /^[A-Z0-9]{10}$/;
const MICROSOFT_TENANT = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[a-z0-9][a-z0-9.-]{0,252})$/;
const scopeValue = z.union([
  z.string().check(z.maxLength(1024)),
  z.array(z.string().check(z.maxLength(128))).check(z.maxLength(50)),
]);

/**
 * Auth0's options of the social and enterprise connections this service acts on, one schema for
 * all; which strategy may carry which is checked in storedSocialOptions. Any other option must be
 * one of Auth0's attribute and permission switches (`follow`, `read_user`, `gmail`, `signin`, …):
 * a boolean, kept as given so an Auth0 connection pasted as-is is accepted; other unknown options
 * are refused.
 */
export const socialOptionsSchema = z.catchall(z.object({
  client_id: z.string().check(z.regex(CLIENT_ID, 'Expected a client id')),
  client_secret: z.optional(z.string().check(z.minLength(8), z.maxLength(4096))),
  discovery_url: z.optional(z.string().check(z.maxLength(2048))),
  issuer: z.optional(z.string().check(z.maxLength(2048))),
  scope: z.optional(scopeValue),
  type: z.optional(z.enum(['back_channel', 'front_channel'])),
  // Auth0's Google and Apple options carry attribute switches; kept as given.
  email: z.optional(z.boolean()),
  profile: z.optional(z.boolean()),
  name: z.optional(z.boolean()),
  // Apple: the Services ID is client_id; the team, the key id and the key (.p8 PEM) sign the client secret.
  team_id: z.optional(z.string().check(z.regex(APPLE_ID, 'Expected a 10-character Apple Team ID'))),
  kid: z.optional(z.string().check(z.regex(APPLE_ID, 'Expected a 10-character Apple Key ID'))),
  app_secret: z.optional(z.string().check(z.maxLength(5120))),
  // Microsoft: common, organizations, consumers or one tenant (id or domain).
  tenant: z.optional(z.string().check(z.regex(MICROSOFT_TENANT, 'Expected common, organizations, consumers, a tenant id or a tenant domain'))),
  strategy_version: z.optional(z.literal(2)),
  /** The provider's base URL, for a loopback stand-in when the service runs locally (never in AWS). */
  provider_base_url: z.optional(z.string().check(z.maxLength(2048))),
  // Auth0's profile-sync settings, kept as given (this service writes the profile on a first sign-in only).
  set_user_root_attributes: z.optional(z.enum(['on_each_login', 'on_first_login', 'never_on_login'])),
  non_persistent_attrs: z.optional(z.array(z.string().check(z.maxLength(128))).check(z.maxLength(100))),
}), z.boolean());

/** The options each strategy may carry besides client_id, scope and the attribute switches. */
const ALLOWED: Record<SocialStrategy, readonly string[]> = {
  'google-oauth2': ['client_secret', 'discovery_url', 'issuer', 'type'],
  oidc: ['client_secret', 'discovery_url', 'issuer', 'type'],
  apple: ['team_id', 'kid', 'app_secret', 'provider_base_url'],
  github: ['client_secret', 'provider_base_url'],
  windowslive: ['client_secret', 'tenant', 'strategy_version', 'provider_base_url'],
};
const COMMON = new Set(['client_id', 'scope', 'email', 'profile', 'name', 'set_user_root_attributes', 'non_persistent_attrs']);
const NAMED = new Set(Object.keys(socialOptionsSchema.shape));

export type SocialOptionsInput = z.infer<typeof socialOptionsSchema>;

/**
 * Turns the options of a request into stored options: provider URLs checked (https, or loopback
 * http when running locally), the client secret written to the secret store before the item that
 * points at it, and kept from the previous options only while the client id and the provider's
 * hosts are the same.
 */
export async function storedSocialOptions(
  req: ManagementRequest<Pick<Deps, 'config' | 'secrets'>>,
  strategy: SocialStrategy,
  connectionId: string,
  input: SocialOptionsInput,
  previous?: ConnectionOptions,
): Promise<ConnectionOptions> {
  for (const [name, value] of Object.entries(input)) {
    // An unnamed boolean is one of Auth0's attribute or permission switches, valid for any strategy.
    if (!NAMED.has(name) && typeof value === 'boolean') continue;
    if (!COMMON.has(name) && !ALLOWED[strategy].includes(name)) {
      throw managementErrors.invalidBody(`'Not an option of the ${strategy} strategy' on property options.${name}.`);
    }
  }
  if (input.type === 'front_channel' && strategy !== 'oidc') {
    throw managementErrors.invalidBody(`'Only oidc connections may use type front_channel' on property options.type.`);
  }
  if (strategy === 'apple' && (!input.team_id || !input.kid)) {
    throw managementErrors.invalidBody(`'Apple connections need team_id and kid' on property options.${input.team_id ? 'kid' : 'team_id'}.`);
  }
  if (input.provider_base_url) {
    // Only a loopback stand-in, only when the service runs locally: in AWS the provider's own hosts are fixed.
    if (!req.deps.config.allowLoopbackHttp || !/^http:\/\/127\.0\.0\.1:\d+\/?$/.test(input.provider_base_url)) {
      throw managementErrors.invalidBody(`'provider_base_url is only for a loopback provider when running locally' on property options.provider_base_url.`);
    }
  }
  const { client_secret: givenSecret, app_secret, ...rest } = input;
  if (app_secret !== undefined && !(await isAppleSigningKey(app_secret))) {
    // Never echoed: the message names the field only.
    throw managementErrors.invalidBody(`'Expected the Sign in with Apple private key (.p8, PKCS#8 PEM, P-256)' on property options.app_secret.`);
  }
  const client_secret = strategy === 'apple' ? app_secret : givenSecret;
  if (strategy === 'oidc' && !rest.discovery_url && !rest.issuer) {
    throw managementErrors.invalidBody(`'Expected discovery_url or issuer' on property options.discovery_url.`);
  }
  if (strategy === 'google-oauth2' && rest.discovery_url && !req.deps.config.allowLoopbackHttp) {
    throw managementErrors.invalidBody(`'Google connections use Google's discovery document' on property options.discovery_url.`);
  }
  if (rest.discovery_url) assertOutboundUrl(req.deps, rest.discovery_url, 'options.discovery_url');
  if (rest.issuer) assertOutboundUrl(req.deps, rest.issuer, 'options.issuer');
  const options: ConnectionOptions = { ...rest, ...(strategy === 'oidc' || strategy === 'google-oauth2' ? { type: rest.type ?? 'back_channel' } : {}) };
  if (client_secret !== undefined) {
    const ref = secretNames.connectionClientSecret(req.ctx.tenant, connectionId);
    await req.deps.secrets.put(ref, client_secret);
    // A PEM's last characters are its armour: an Apple key gets no hint.
    return { ...options, client_secret_ref: ref, ...(strategy === 'apple' ? {} : { client_secret_hint: secretHint(client_secret) }) };
  }
  // The kept secret is only ever sent to the provider it was given for: same client, same hosts.
  const sameApple = strategy !== 'apple' || (previous?.team_id === rest.team_id && previous?.kid === rest.kid);
  if (previous?.client_secret_ref && previous.client_id === rest.client_id && sameProviderHosts(previous, rest) && sameApple) {
    const hint = previous.client_secret_hint === undefined ? {} : { client_secret_hint: previous.client_secret_hint };
    return { ...options, client_secret_ref: previous.client_secret_ref, ...hint };
  }
  // Front channel: the id_token comes through the browser, no code is redeemed, no secret is needed.
  if (options.type === 'front_channel') return options;
  const field = strategy === 'apple' ? 'app_secret' : 'client_secret';
  throw managementErrors.invalidBody(`'${field} is required when the client_id, the key or the provider's host change' on property options.${field}.`);
}

const hostOf = (url: unknown) => (typeof url === 'string' ? new URL(url).host : undefined);

function sameProviderHosts(previous: ConnectionOptions, next: Omit<SocialOptionsInput, 'client_secret'>): boolean {
  return (
    hostOf(previous.discovery_url) === hostOf(next.discovery_url) &&
    hostOf(previous.issuer) === hostOf(next.issuer) &&
    hostOf(previous.provider_base_url) === hostOf(next.provider_base_url) &&
    previous.tenant === next.tenant
  );
}
