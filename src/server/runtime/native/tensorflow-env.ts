/**
 * The environment libtensorflow reads when it loads, set before our addon (or tfjs-node) loads it.
 *
 * oneDNN off (TF_ENABLE_ONEDNN_OPTS=0) unless the operator set the variable: the pinned
 * tensorflow-cpu wheel enables its oneDNN kernels by default, and those abort the whole process
 * with a failed CHECK on input shapes the graph was not built for (found by the fuzz campaign, issue
 * 7: a uint8 [1,1,1000,3] image into keras_uint8_image's [-1,16,16,3] input killed the server in
 * MklConvOp, "Check failed: index >= 0 && index < num_total_dims"). TensorFlow's Eigen kernels answer
 * such a request as TensorFlow does without oneDNN (an error status or a value), never a crash.
 */
const DEFAULTS: Readonly<Record<string, string>> = {
  TF_ENABLE_ONEDNN_OPTS: '0',
};

/** Sets each default the environment does not already set; returns the ones it set. */
export function applyTensorflowEnvDefaults(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const applied: Record<string, string> = {};
  for (const [name, value] of Object.entries(DEFAULTS)) {
    if (env[name] !== undefined) continue;
    env[name] = value;
    applied[name] = value;
  }
  return applied;
}
