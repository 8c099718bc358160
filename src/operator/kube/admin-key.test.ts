import assert from 'node:assert/strict';
import type { V1Secret } from '@kubernetes/client-node';
import { kubeAdminKey, type SecretsApi } from './admin-key.js';

/** An apiserver's Secrets in one namespace, with scripted failures (client-node throws objects with `code`). */
class FakeSecrets {
  readonly secrets = new Map<string, V1Secret>();
  readonly calls: string[] = [];
  failReadWith?: number;
  /** Someone else creates the Secret just before our create lands (another replica). */
  raceWith?: V1Secret;

  api(): SecretsApi {
    const fail = (code: number) => Object.assign(new Error(`HTTP ${code}`), { code });
    return {
      readNamespacedSecret: (async ({ namespace, name }: { namespace: string; name: string }) => {
        this.calls.push(`get ${namespace}/${name}`);
        if (this.failReadWith) throw fail(this.failReadWith);
        const secret = this.secrets.get(name);
        if (!secret) throw fail(404);
        return secret;
      }) as SecretsApi['readNamespacedSecret'],
      createNamespacedSecret: (async ({ namespace, body }: { namespace: string; body: V1Secret }) => {
        this.calls.push(`create ${namespace}/${body.metadata!.name}`);
        if (this.raceWith) {
          this.secrets.set(body.metadata!.name!, this.raceWith);
          throw fail(409);
        }
        this.secrets.set(body.metadata!.name!, body);
        return body;
      }) as SecretsApi['createNamespacedSecret'],
    };
  }
}

const NAME = 'tfmodel-operator-admin-key';

describe('operator admin key Secret', () => {
  it('creates 32 random bytes when absent, then answers from memory', async () => {
    const fake = new FakeSecrets();
    const load = kubeAdminKey(fake.api(), 'tfmodel-system', NAME);
    const key = await load();
    assert.equal(key.length, 32);
    assert.deepEqual(await load(), key);
    assert.deepEqual(fake.calls, ['get tfmodel-system/tfmodel-operator-admin-key', 'create tfmodel-system/tfmodel-operator-admin-key']);
    const stored = fake.secrets.get(NAME)!;
    assert.equal(stored.immutable, true);
    assert.deepEqual(Buffer.from(stored.data!['key']!, 'base64'), key);
    const other = await kubeAdminKey(new FakeSecrets().api(), 'tfmodel-system', NAME)();
    assert.notDeepEqual(other, key, 'random, not a constant');
  });

  it('uses the key already stored (an operator restart keeps every token)', async () => {
    const fake = new FakeSecrets();
    const first = await kubeAdminKey(fake.api(), 'ns', NAME)();
    const again = await kubeAdminKey(fake.api(), 'ns', NAME)();
    assert.deepEqual(again, first);
    assert.equal(fake.calls.filter((c) => c.startsWith('create')).length, 1);
  });

  it('takes the key of a replica that created it first', async () => {
    const fake = new FakeSecrets();
    const theirs = Buffer.alloc(32, 3);
    fake.raceWith = { metadata: { name: NAME }, data: { key: theirs.toString('base64') } };
    assert.deepEqual(await kubeAdminKey(fake.api(), 'ns', NAME)(), theirs);
  });

  it('refuses a Secret without a usable key, and retries after a failed read', async () => {
    const fake = new FakeSecrets();
    fake.secrets.set(NAME, { metadata: { name: NAME }, data: { key: Buffer.alloc(8).toString('base64') } });
    await assert.rejects(kubeAdminKey(fake.api(), 'ns', NAME)(), /no data key "key" of at least 32 bytes; delete it/);
    fake.secrets.clear();
    fake.failReadWith = 403;
    const load = kubeAdminKey(fake.api(), 'ns', NAME);
    await assert.rejects(load(), /HTTP 403/);
    fake.failReadWith = undefined;
    assert.equal((await load()).length, 32, 'a failure is not cached');
  });
});
