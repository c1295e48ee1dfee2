// oidc-provider ships no types (the @types package lags its major versions); the tests use a small part.
declare module 'oidc-provider' {
  const Provider: new (issuer: string, configuration: unknown) => { callback(): (req: unknown, res: unknown) => void };
  export default Provider;
}
