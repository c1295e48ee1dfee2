import type { ImportCountersStore } from '../ports.js';

/**
 * After a login: an imported user's first sign-in here moves them out of "imported, never
 * signed in" (the drain view). A lost count only makes that figure a little high.
 */
export async function countSignInAfterImport(
  deps: { importCounters: Pick<ImportCountersStore, 'countFirstSignIn'>; sink: { warn(m: string, f: Record<string, unknown>): void } },
  tenant: string,
  user: { arrival?: { via: string } },
  login: { firstLogin: boolean },
): Promise<void> {
  if (!login.firstLogin || user.arrival?.via !== 'import') return;
  await deps.importCounters
    .countFirstSignIn(tenant)
    .catch((err: unknown) => deps.sink.warn('import sign-in not counted', { tenant, error: (err as Error)?.name ?? 'unknown' }));
}
