/**
 * A post-login extension written as an Auth0 Action (unchanged Actions code runs here):
 * roles and a tenant id as namespaced claims, the app's name in the id token, a deny for
 * users the app marks banned, and an attempt to overwrite `sub`, which must be ignored.
 */
export async function onExecutePostLogin(event, api) {
  if (event.user.app_metadata?.banned) {
    api.access.deny('This account is suspended.');
    return;
  }
  api.accessToken.setCustomClaim('https://myapp.example/roles', event.authorization.roles);
  api.accessToken.setCustomClaim('https://myapp.example/tenant_id', event.user.app_metadata?.tenant_id ?? null);
  api.accessToken.setCustomClaim('https://myapp.example/protocol', event.transaction.protocol);
  api.idToken.setCustomClaim('https://myapp.example/app', event.client.name);
  api.accessToken.setCustomClaim('sub', 'someone-else');
}
