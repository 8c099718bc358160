/**
 * tfjs-converter's HashTable.find stacks one value per key: with no keys it throws "Pass at least
 * one tensor to tf.stack" (TextVectorization on an empty string has no tokens to look up; issue 7,
 * item 3), where TensorFlow's LookupTableFindV2 answers an empty tensor. Patched on the class once
 * it is known (it is not exported: reached through a loaded model's tables). The keys' rank is
 * restored in the graph (lookup-rank.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { loadGraphModelSync } from '@tensorflow/tfjs-converter';

interface HashTableLike {
  readonly valueDType: tf.DataType;
  find(keys: tf.Tensor, defaultValue: tf.Tensor): Promise<tf.Tensor>;
  checkKeyAndValueTensor(keys: tf.Tensor, defaultValue: tf.Tensor): void;
}

const patched = new WeakSet<object>();

export function patchHashTableFind(model: ReturnType<typeof loadGraphModelSync>): void {
  const tables = (model as unknown as { resourceManager?: { hashTableMap?: Record<string, HashTableLike> } }).resourceManager?.hashTableMap;
  for (const table of Object.values(tables ?? {})) {
    const proto = Object.getPrototypeOf(table) as HashTableLike;
    if (patched.has(proto)) continue;
    patched.add(proto);
    const find = proto.find;
    proto.find = async function (this: HashTableLike, keys: tf.Tensor, defaultValue: tf.Tensor): Promise<tf.Tensor> {
      if (keys.size === 0) {
        this.checkKeyAndValueTensor(keys, defaultValue);
        return tf.tensor([], [...keys.shape, ...defaultValue.shape], this.valueDType);
      }
      return find.call(this, keys, defaultValue);
    };
  }
}
