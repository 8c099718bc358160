/**
 * A child process for native-run-options.test.ts: loads half_plus_two in the native engine, runs
 * it once (in the calling thread with argv[2] = "caller", on the inter-op pool otherwise) between
 * two markers on stderr, and prints the answer on stdout. The test reads TensorFlow's own log
 * lines (TF_CPP_VMODULE=direct_session=1) between the markers.
 */
import { SessionEngine } from '../../../src/server/runtime/native/session-engine.js';
import { DataType } from '../../../src/server/runtime/tensor/dtypes.js';
import { HALF_PLUS_TWO } from '../../support/test-models.js';

const engine = await SessionEngine.load(HALF_PLUS_TWO);
const x = { dtype: DataType.DT_FLOAT, shape: [3], data: Float32Array.from([1, 2, 5]) };
process.stderr.write('probe: run starts\n');
const out = await engine.run({ signature: 'serving_default', inputs: new Map([['x', x]]), inCallerThread: process.argv[2] === 'caller' });
process.stderr.write('probe: run ended\n');
await engine.dispose();
process.stdout.write(`${JSON.stringify(Array.from(out.get('y')!.data as Float32Array))}\n`);
