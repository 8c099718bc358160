"""Batch-1 latency and CPU time per request of one SavedModel signature in TensorFlow (Python, CPU).

Used by cpu-latency.ts. Arguments: model dir, input alias, seconds, then the example shape. Prints
one JSON line: {"count", "p50", "cpuMsPerRequest"}. The input is uniform(-1, 1), as the main
benchmark's; TensorFlow uses its default intra-op thread pool (one thread per core).
"""
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402


def main():
    model_dir, alias, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    shape = [1, *[int(d) for d in sys.argv[4:]]]
    fn = tf.saved_model.load(model_dir).signatures["serving_default"]
    x = np.random.default_rng(0).uniform(-1.0, 1.0, size=shape).astype(np.float32)
    for _ in range(3):
        fn(**{alias: tf.constant(x)})
    samples = []
    cpu_start = time.process_time()
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(samples) < 5:
        start = time.perf_counter()
        fn(**{alias: tf.constant(x)})
        samples.append((time.perf_counter() - start) * 1000)
    cpu_ms = (time.process_time() - cpu_start) * 1000
    print(json.dumps({"count": len(samples), "p50": float(np.percentile(samples, 50)), "cpuMsPerRequest": cpu_ms / len(samples)}))


if __name__ == "__main__":
    main()
