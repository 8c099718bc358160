import assert from 'node:assert/strict';
import { Code, ServingError } from '../../errors.js';
import { DataType } from '../tensor/dtypes.js';
import { LINE_NUMBER, WHOLE_LINE, parseVocabulary } from './tables.js';

const base = { source: 'vocab.txt', vocabSize: -1, offset: 0, delimiter: '\t' };
const strings = (data: unknown): string[] => (data as Uint8Array[]).map((b) => new TextDecoder().decode(b));

describe('parseVocabulary (TextFileInitializer semantics)', () => {
  it('maps whole lines to line numbers (the common vocabulary table)', () => {
    const { keys, values } = parseVocabulary('[PAD]\nthe\ncat\n', {
      ...base, keyIndex: WHOLE_LINE, valueIndex: LINE_NUMBER, keyDtype: DataType.DT_STRING, valueDtype: DataType.DT_INT64,
    });
    assert.deepEqual(strings(keys.data), ['[PAD]', 'the', 'cat']);
    assert.deepEqual(Array.from(values.data as BigInt64Array), [0n, 1n, 2n]);
  });

  it('reads delimited columns, honours vocab_size and offset', () => {
    const { keys, values } = parseVocabulary('7,seven\n8,eight\n9,nine\n', {
      ...base, delimiter: ',', vocabSize: 2, keyIndex: 0, valueIndex: 1, keyDtype: DataType.DT_INT64, valueDtype: DataType.DT_STRING,
    });
    assert.deepEqual(Array.from(keys.data as BigInt64Array), [7n, 8n]);
    assert.deepEqual(strings(values.data), ['seven', 'eight']);
    const offset = parseVocabulary('a\nb\n', { ...base, offset: 10, keyIndex: WHOLE_LINE, valueIndex: LINE_NUMBER, keyDtype: DataType.DT_STRING, valueDtype: DataType.DT_INT64 });
    assert.deepEqual(Array.from(offset.values.data as BigInt64Array), [10n, 11n]);
  });

  it('refuses non-integer keys, missing columns and too few lines', () => {
    const invalid = (e: unknown) => e instanceof ServingError && e.code === Code.INVALID_ARGUMENT;
    assert.throws(() => parseVocabulary('x\n', { ...base, keyIndex: 0, valueIndex: LINE_NUMBER, keyDtype: DataType.DT_INT64, valueDtype: DataType.DT_INT64 }), invalid);
    assert.throws(() => parseVocabulary('a\n', { ...base, keyIndex: 0, valueIndex: 3, keyDtype: DataType.DT_STRING, valueDtype: DataType.DT_STRING }), invalid);
    assert.throws(() => parseVocabulary('a\n', { ...base, vocabSize: 2, keyIndex: WHOLE_LINE, valueIndex: LINE_NUMBER, keyDtype: DataType.DT_STRING, valueDtype: DataType.DT_INT64 }), invalid);
  });
});
