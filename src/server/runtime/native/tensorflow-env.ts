/**
 * The environment libtensorflow reads when it loads, set before our addon (or tfjs-node) loads it.
 * A variable the deployment sets always wins.
 *
 * oneDNN off (TF_ENABLE_ONEDNN_OPTS=0) unless the deployment sets it. The pinned wheel turns its
 * oneDNN kernels on by default, and they are about 2x faster than TensorFlow's Eigen kernels
 * (docs/native-speed.md), but they are not safe for every request:
 * - they abort the whole process on some input shapes the graph was not built for (a rank-3 image
 *   into Conv2D, found by the fuzz campaign of issue 7); those are now refused before
 *   TF_SessionRun (feed-checks.ts, docs/hostile-input.md);
 * - on inputs whose intermediate sizes reach zero (keras_mobilenet_v3 on a 2x2 to 16x16 image,
 *   where the Eigen kernels answer NaN every time) they answer differently on each call, NaN or
 *   finite probabilities (issue 8), a wrong answer no shape check of the fed tensor can rule out.
 * TF_ENABLE_ONEDNN_OPTS=1 turns them on for a deployment that accepts that.
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
