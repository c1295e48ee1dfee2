import { beforeAll, describe, expect, it } from 'vitest';
import { defaultTenantSettings } from '../../lambdas/store/defaults.js';
import type { RoleRecord } from '../../lambdas/store/records.js';
import { createTenantConfigRepository } from '../../lambdas/store/tenant-config-repository.js';
import { useStoreEngine } from '../support/store-engine.js';

/** Configuration writes answer what their condition decided, instead of throwing the engine's error. */
const TABLE = 'config-outcomes-test';
const store = useStoreEngine(TABLE);

beforeAll(async () => {
  await createTenantConfigRepository(store.db, TABLE).putSettings(defaultTenantSettings('t'));
});

describe('tenant configuration writes', () => {
  const role = (id: string, name: string): RoleRecord => ({ id, name, permissions: [] });

  it('a new item whose id is taken is a conflict, and the first one stays', async () => {
    const configs = createTenantConfigRepository(store.db, TABLE);
    expect(await configs.putRole('t', role('rol_a', 'first'), { mustNotExist: true })).toEqual({ ok: true });
    expect(await configs.putRole('t', role('rol_a', 'second'), { mustNotExist: true })).toEqual({ ok: false, reason: 'conflict' });
    expect((await configs.load('t'))?.roles.get('rol_a')?.name).toBe('first');
  });

  it('an update of an item that is gone is not_found, and writes nothing', async () => {
    const configs = createTenantConfigRepository(store.db, TABLE);
    expect(await configs.putRole('t', role('rol_gone', 'x'), { mustExist: true })).toEqual({ ok: false, reason: 'not_found' });
    expect((await configs.load('t'))?.roles.has('rol_gone')).toBe(false);
  });
});
