/**
 * SecretStore port: where signing keys, upstream client secrets and other secrets live.
 * AWS Secrets Manager in AWS (./aws-secret-store.ts), a local file or memory store for
 * `npm start` and tests (./local-secret-store.ts). Values are opaque strings (often JSON).
 * Secret values never appear in logs, API responses or error messages.
 */
export interface SecretStore {
  /**
   * The secret's current value, or undefined when there is none. `maxAgeMs` bounds how old a
   * cached value may be for this read (0: read it from the store); callers that keep the value
   * themselves pass 0, so that their own cache is the only one and its age the whole delay.
   */
  get(name: string, opts?: { maxAgeMs?: number }): Promise<string | undefined>;
  /** Creates or replaces the secret. */
  put(name: string, value: string): Promise<void>;
  /**
   * Creates the secret only if it does not exist yet and returns the value that is stored
   * afterwards (the caller's or the one that won a concurrent race).
   */
  putIfAbsent(name: string, value: string): Promise<string>;
  /** Deletes the secret; deleting a missing secret is not an error. */
  delete(name: string): Promise<void>;
}

/** Secret names, one builder per kind, so adapters and IAM policies agree on the prefix. */
export const secretNames = {
  prefix: 'auth0-migration',
  signingKeys: (tenant: string) => `auth0-migration/${tenant}/signing-keys`,
  connectionClientSecret: (tenant: string, connectionId: string) =>
    `auth0-migration/${tenant}/connections/${connectionId}/client-secret`,
  connectionManagementSecret: (tenant: string, connectionId: string) =>
    `auth0-migration/${tenant}/connections/${connectionId}/management-client-secret`,
  migrationSourceClientSecret: (tenant: string, sourceId: string) =>
    `auth0-migration/${tenant}/migration-sources/${sourceId}/client-secret`,
  hookSecret: (tenant: string, hookId: string) => `auth0-migration/${tenant}/hooks/${hookId}/secret`,
  /** Key that seals an upstream token answer kept for a re-mint retry (token function writes it). */
  remintKey: (tenant: string) => `auth0-migration/${tenant}/remint-key`,
};
