"""TensorFlow (Python, CPU) baseline for bench/runtime: the same SavedModels, measured in-process.

A long-lived helper so that run.ts can measure TensorFlow right after our runtime on each model
(on a shared, noisy machine, figures taken minutes apart are not comparable). Protocol: one JSON
line on stdout when TensorFlow is imported ({"ready": true, ...}), then for every JSON request line
on stdin one JSON reply line on stdout:

  {"op": "load", "dir": ..., "loads": N}        -> tf.saved_model.load times
  {"op": "model", "model": {...}, "settings": {...}} -> latency and throughput of one signature

Logs go to stderr. Only the signature call is timed (it includes TensorFlow's conversion of the
numpy inputs, as our runtime's figures include its conversion of host tensors). TensorFlow uses
its default intra-op thread pool (one thread per core).
"""
import json
import os
import sys
import threading
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

# half_plus_two is a TF1 model: loading it warns about reference variables on every load.
tf.get_logger().setLevel("ERROR")


def log(*parts):
    print("tf_baseline:", *parts, file=sys.stderr, flush=True)


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def summarize(samples_ms):
    """Same fields and percentile method (linear interpolation) as stats.ts."""
    if not samples_ms:
        return {"count": 0}
    a = np.asarray(samples_ms, dtype=np.float64)
    return {
        "count": int(a.size),
        "mean": float(a.mean()),
        "min": float(a.min()),
        "p50": float(np.percentile(a, 50)),
        "p90": float(np.percentile(a, 90)),
        "p99": float(np.percentile(a, 99)),
        "max": float(a.max()),
    }


def random_inputs(model, batch, rng):
    return {
        spec["alias"]: rng.uniform(-1.0, 1.0, size=[batch, *spec["exampleShape"]]).astype(np.float32)
        for spec in model["inputs"]
    }


def closed_loop(fn, inputs, concurrency, seconds):
    """`concurrency` Python threads calling fn back to back until the deadline."""
    samples = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client():
        local = []
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            fn(**inputs)
            local.append((time.perf_counter() - t0) * 1000.0)
        with lock:
            samples.extend(local)

    cpu0 = time.process_time()
    start = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    return samples, elapsed, time.process_time() - cpu0


def measure_latency(fn, inputs, s):
    closed_loop(fn, inputs, 1, s["warmupSeconds"])
    samples = []
    start = time.perf_counter()
    cap = start + s["latencySeconds"] * 5
    while (time.perf_counter() - start < s["latencySeconds"] or len(samples) < s["minLatencySamples"]) and time.perf_counter() < cap:
        t0 = time.perf_counter()
        fn(**inputs)
        samples.append((time.perf_counter() - t0) * 1000.0)
    return summarize(samples)


def measure_throughput(fn, inputs, s, concurrency):
    closed_loop(fn, inputs, concurrency, s["warmupSeconds"])
    samples, seconds, cpu = closed_loop(fn, inputs, concurrency, s["throughputSeconds"])
    batch = s["batch"]
    return {
        "batch": batch,
        "concurrency": concurrency,
        "seconds": seconds,
        "requests": len(samples),
        "requestsPerSecond": len(samples) / seconds,
        "examplesPerSecond": len(samples) * batch / seconds,
        "coresBusy": cpu / seconds,
        "latencyMs": summarize(samples),
    }


def measure_model(model, s, rng):
    t0 = time.perf_counter()
    loaded = tf.saved_model.load(model["dir"])
    load_ms = (time.perf_counter() - t0) * 1000.0
    fn = loaded.signatures[s["signature"]]
    latency = measure_latency(fn, random_inputs(model, 1, rng), s)
    batch_inputs = random_inputs(model, s["batch"], rng)
    sequential = measure_throughput(fn, batch_inputs, s, 1)
    concurrent = measure_throughput(fn, batch_inputs, s, 2)
    best = concurrent if concurrent["examplesPerSecond"] > sequential["examplesPerSecond"] else sequential
    return {
        "loadMs": load_ms,
        "latencyMs": latency,
        "throughputSequential": sequential,
        "throughputConcurrent": concurrent,
        "throughputBest": best,
    }


def measure_load(directory, loads):
    """tf.saved_model.load time: the first load (TensorFlow's lazy start-up) and the rest."""
    times = []
    for _ in range(loads + 1):
        t0 = time.perf_counter()
        loaded = tf.saved_model.load(directory)
        times.append((time.perf_counter() - t0) * 1000.0)
        del loaded
    return {"firstMs": times[0], "repeatMs": summarize(times[1:])}


def main():
    rng = np.random.default_rng(0)
    emit({
        "ready": True,
        "tensorflowVersion": tf.__version__,
        "intraOpThreads": tf.config.threading.get_intra_op_parallelism_threads(),
        "interOpThreads": tf.config.threading.get_inter_op_parallelism_threads(),
        "cpuCount": os.cpu_count(),
    })
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        try:
            if request["op"] == "load":
                log("load time of", request["dir"])
                emit(measure_load(request["dir"], request["loads"]))
            elif request["op"] == "model":
                log("measuring", request["model"]["key"])
                emit(measure_model(request["model"], request["settings"], rng))
            else:
                emit({"error": "unknown op " + str(request["op"])})
        except Exception as error:  # reported to the caller, which fails the run
            emit({"error": repr(error)})


if __name__ == "__main__":
    main()
