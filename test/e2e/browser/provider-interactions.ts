/**
 * Walks a provider's own login and consent pages (oidc-provider's devInteractions) the way a
 * user would: follow redirects, fill the login form with an account id, confirm the consent,
 * until the provider sends the browser back to the service's `/login/callback`.
 */
import type { AgentResponse, LoginAgent } from './login-http-agent.js';

const formAction = (page: string) => /<form[^>]*action="([^"]+)"/.exec(page)?.[1];
const abortLink = (page: string) => /href="([^"]*\/abort)"/.exec(page)?.[1];

export async function throughProvider(
  agent: LoginAgent,
  startUrl: string,
  serviceUrl: string,
  p: { account: string; cancel?: boolean },
): Promise<{ callbackUrl: string; form?: Record<string, string> }> {
  let url = startUrl;
  for (let step = 0; step < 12; step++) {
    if (url.startsWith(`${serviceUrl}/login/callback`)) return { callbackUrl: url };
    let res: AgentResponse = await agent.request(url);
    if (res.status === 200) {
      const action = formAction(res.body);
      if (!action) throw new Error(`provider page without a form: ${res.body.slice(0, 200)}`);
      // A form_post answer: the page posts the provider's fields to the service's callback.
      if (action.startsWith(`${serviceUrl}/login/callback`)) {
        const form: Record<string, string> = {};
        for (const m of res.body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\s*\/?>/g)) form[m[1]] = m[2];
        return { callbackUrl: action, form };
      }
      if (p.cancel) {
        res = await agent.request(new URL(abortLink(res.body)!, url).toString());
      } else {
        const form: Record<string, string> = res.body.includes('name="login"')
          ? { prompt: 'login', login: p.account, password: 'any' }
          : { prompt: 'consent' };
        res = await agent.request(new URL(action, url).toString(), { form });
      }
    }
    const location = res.headers.get('location');
    if (!location) throw new Error(`provider answered ${res.status} without a redirect: ${res.body.slice(0, 300)}`);
    url = new URL(location, url).toString();
  }
  throw new Error('too many provider steps');
}
