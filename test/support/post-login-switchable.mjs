/**
 * A post-login extension that returns its result directly (no Actions API) and that a test can
 * make fail or hang through `globalThis.__postLogin` (the local server runs in the test's process).
 */
export default async function postLogin(event, signal) {
  const mode = globalThis.__postLogin ?? 'ok';
  if (mode === 'throw') throw new Error('claims service down');
  if (mode === 'hang') await new Promise((resolve) => signal.addEventListener('abort', resolve));
  return { access_token_claims: { 'https://myapp.example/checked': true } };
}
