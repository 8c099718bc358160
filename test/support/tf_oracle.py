"""Ground truth from real TensorFlow: runs SavedModel signatures on given inputs.

Models load the way TensorFlow Serving loads them (a session and the SavedModel loader, which
restores variables and runs the init op), and signatures run by feeding and fetching their tensor
names. Unlike tf.saved_model.load, this also works for old TF1 exports.

Reads a JSON list of {"dir", "tags"?, "signature", "inputs": {alias: T}} on stdin (T is the
corpus tensor format: dtype, shape, flat values; int64 as strings, bytes as base64) and writes
a JSON list of {"outputs": {alias: T}} or {"error": message} in the same order. Calls on the
same directory share one loaded model, in order, so stateful signatures see earlier calls.
"""
import base64
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402


def decode(t):
    dtype = t["dtype"]
    if dtype == "string":
        return np.array([base64.b64decode(v) for v in t["values"]], dtype=object).reshape(t["shape"])
    if dtype in ("int64", "uint64"):
        values = [int(v) for v in t["values"]]
    else:
        values = [float(v) if isinstance(v, str) else v for v in t["values"]]
    return np.array(values, dtype=dtype).reshape(t["shape"])


def encode(array):
    array = np.asarray(array)
    dtype = array.dtype
    flat = array.reshape(-1).tolist()
    if dtype == object or dtype.kind == "S":
        return {"dtype": "string", "shape": list(array.shape), "values": [base64.b64encode(v).decode() for v in flat]}
    name = np.dtype(dtype).name
    if name in ("int64", "uint64"):
        flat = [str(v) for v in flat]
    elif dtype.kind == "f":
        flat = [v if np.isfinite(v) else ("NaN" if np.isnan(v) else ("Infinity" if v > 0 else "-Infinity")) for v in flat]
    return {"dtype": name, "shape": list(array.shape), "values": flat}


def load(export_dir, tags):
    graph = tf.Graph()
    session = tf.compat.v1.Session(graph=graph)
    with graph.as_default():
        meta_graph = tf.compat.v1.saved_model.loader.load(session, list(tags), export_dir)
    return session, meta_graph


def main():
    requests = json.load(sys.stdin)
    models = {}
    results = []
    for request in requests:
        key = (request["dir"], tuple(request.get("tags", ["serve"])))
        if key not in models:
            models[key] = load(*key)
        session, meta_graph = models[key]
        try:
            signature = meta_graph.signature_def[request["signature"]]
            feeds = {signature.inputs[alias].name: decode(t) for alias, t in request["inputs"].items()}
            fetches = {alias: info.name for alias, info in signature.outputs.items()}
            outputs = session.run(fetches, feed_dict=feeds)
            results.append({"outputs": {alias: encode(value) for alias, value in outputs.items()}})
        except Exception as error:  # noqa: BLE001 - reported to the caller
            results.append({"error": str(error)})
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
