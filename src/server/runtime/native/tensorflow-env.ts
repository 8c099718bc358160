/**
 * The environment libtensorflow reads when it loads, set before our addon (or tfjs-node) loads it.
 * A variable the deployment sets always wins.
 *
 * oneDNN on (TF_ENABLE_ONEDNN_OPTS=1, the pinned wheel's own default on x86, made explicit): with
 * it the native engine runs the kernels Python TensorFlow runs, about 2x faster than TensorFlow's
 * Eigen kernels (docs/native-speed.md). oneDNN's kernels abort the whole process with a failed
 * CHECK on some input shapes the graph was not built for (a rank-3 image into Conv2D, found by the
 * fuzz campaign of issue 7); such requests are refused before TF_SessionRun by the checks of
 * feed-checks.ts (docs/hostile-input.md lists the reproducers). TF_ENABLE_ONEDNN_OPTS=0 still
 * turns oneDNN off.
 */
const DEFAULTS: Readonly<Record<string, string>> = {
  TF_ENABLE_ONEDNN_OPTS: '1',
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
