import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLocalSecretStore } from './local-secret-store.js';

describe('local secret store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'local-secret-store-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describe('memory mode', () => {
    it('returns undefined for a secret never stored', async () => {
      expect(await createLocalSecretStore().get('missing')).toBeUndefined();
    });

    it('stores, replaces and deletes values', async () => {
      const store = createLocalSecretStore();
      await store.put('a', '1');
      expect(await store.get('a')).toBe('1');
      await store.put('a', '2');
      expect(await store.get('a')).toBe('2');
      await store.delete('a');
      expect(await store.get('a')).toBeUndefined();
    });

    it('treats deleting a missing secret as success', async () => {
      await expect(createLocalSecretStore().delete('missing')).resolves.toBeUndefined();
    });

    it('does not share values between memory instances', async () => {
      const first = createLocalSecretStore();
      await first.put('a', '1');
      expect(await createLocalSecretStore().get('a')).toBeUndefined();
    });

    it('does not treat Object prototype keys as stored secrets', async () => {
      expect(await createLocalSecretStore().get('toString')).toBeUndefined();
    });
  });

  describe('putIfAbsent', () => {
    it('stores the value when absent and keeps the first value afterwards', async () => {
      const store = createLocalSecretStore();
      expect(await store.putIfAbsent('k', 'first')).toBe('first');
      expect(await store.putIfAbsent('k', 'second')).toBe('first');
      expect(await store.get('k')).toBe('first');
    });

    it('keeps the first of two concurrent calls', async () => {
      const store = createLocalSecretStore();
      const results = await Promise.all([store.putIfAbsent('k', 'one'), store.putIfAbsent('k', 'two')]);
      expect(results).toEqual(['one', 'one']);
    });
  });

  describe('file persistence', () => {
    it('lets a second instance on the same file read what the first wrote', async () => {
      const file = join(dir, 'nested', 'secrets.json');
      const writer = createLocalSecretStore(file);
      await writer.put('signing', '{"kid":"k1"}');
      await writer.putIfAbsent('client', 'c1');
      await writer.put('gone', 'x');
      await writer.delete('gone');

      const reader = createLocalSecretStore(file);
      expect(await reader.get('signing')).toBe('{"kid":"k1"}');
      expect(await reader.putIfAbsent('client', 'c2')).toBe('c1');
      expect(await reader.get('gone')).toBeUndefined();
    });

    it('writes the file readable by its owner only', async () => {
      const file = join(dir, 'mode.json');
      await createLocalSecretStore(file).put('a', '1');
      expect(statSync(file).mode & 0o777).toBe(0o600);
    });

    it('starts empty when the file does not exist yet', async () => {
      expect(await createLocalSecretStore(join(dir, 'absent.json')).get('a')).toBeUndefined();
    });
  });
});
