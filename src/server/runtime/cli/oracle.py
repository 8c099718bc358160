"""Ground truth for the saved-model-cli tests, from Python, numpy and TensorFlow themselves.

Reads one JSON request on stdin, writes one JSON answer on stdout; every test file makes a single
call so that Python starts once. Requests:

  {"mode": "literal", "exprs": [str]}                 ast.literal_eval of each expression
  {"mode": "format", "arrays": [array]}               str(np.array) of each array
  {"mode": "npy", "dir": str, "files": [fixture]}     writes .npy/.npz fixtures; answers np.save bytes
  {"mode": "cli", "jobs": [[arg, ...]]}               saved_model_cli run in-process on each argv
                                                      (after writing "files" into "dir", as for npy)
  {"mode": "hash", "strings": [str], "sets": [[str]]} hash() of strings, iteration order of sets

Arrays travel as {"dtype": numpy dtype, "shape": [...], "values": [...]}: floats as strings
(repr, so nan/inf survive), 64-bit integers as strings, bytes as base64 (dtype "object" gives an
object array of bytes, which is how TensorFlow returns string tensors).
"""

import ast
import base64
import contextlib
import io
import json
import os
import sys

import numpy as np


def decode_values(spec):
    dtype = np.dtype(spec["dtype"])
    values = spec["values"]
    if dtype.kind == "O":
        objects = np.empty(len(values), dtype=object)
        objects[:] = [base64.b64decode(v) for v in values]
        return objects.reshape(spec["shape"])
    if dtype.kind == "S":
        values = [base64.b64decode(v) for v in values]
    elif dtype.kind == "f":
        values = [float(v) for v in values]
    elif dtype.kind in "iu":
        values = [int(v) for v in values]
    return np.array(values, dtype=dtype).reshape(spec["shape"])


def encode_literal(value):
    if value is None:
        return {"t": "none"}
    if isinstance(value, bool):
        return {"t": "bool", "v": value}
    if isinstance(value, int):
        return {"t": "int", "v": str(value)}
    if isinstance(value, float):
        return {"t": "float", "v": repr(value)}
    if isinstance(value, str):
        return {"t": "str", "v": value}
    if isinstance(value, bytes):
        return {"t": "bytes", "v": base64.b64encode(value).decode()}
    if isinstance(value, list):
        return {"t": "list", "v": [encode_literal(v) for v in value]}
    if isinstance(value, tuple):
        return {"t": "tuple", "v": [encode_literal(v) for v in value]}
    if isinstance(value, dict):
        return {"t": "dict", "v": [[encode_literal(k), encode_literal(v)] for k, v in value.items()]}
    return {"t": "other", "v": repr(value)}


def literal(request):
    answers = []
    for expr in request["exprs"]:
        try:
            answers.append({"value": encode_literal(ast.literal_eval(expr))})
        except Exception as e:  # pylint: disable=broad-except
            answers.append({"error": type(e).__name__})
    return answers


def format_arrays(request):
    return [str(decode_values(spec)) for spec in request["arrays"]]


def write_npy(path, array, version, order):
    array = np.asarray(array, order=order)
    with open(path, "wb") as f:
        np.lib.format.write_array(f, array, version=tuple(version) if version else None)


def npy(request):
    answers = []
    for fixture in request["files"]:
        path = os.path.join(request["dir"], fixture["name"])
        if fixture["kind"] == "npy":
            array = decode_values(fixture["array"])
            write_npy(path, array, fixture.get("version"), fixture.get("order", "C"))
        else:
            arrays = {k: decode_values(v) for k, v in fixture["arrays"].items()}
            (np.savez_compressed if fixture.get("compressed") else np.savez)(path, **arrays)
        answers.append(None)
    saved = []
    for spec in request.get("save", []):
        buf = io.BytesIO()
        np.save(buf, decode_values(spec))
        saved.append(base64.b64encode(buf.getvalue()).decode())
    return {"files": answers, "saved": saved}


def cli(request):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from absl import flags  # pylint: disable=g-import-not-at-top
    from absl import logging as absl_logging  # pylint: disable=g-import-not-at-top
    from tensorflow.python.tools import saved_model_cli  # pylint: disable=g-import-not-at-top

    absl_logging.set_verbosity(absl_logging.ERROR)
    if request.get("files"):
        npy(request)
    parser = saved_model_cli.create_parser()
    answers = []
    for argv in request["jobs"]:
        flags.FLAGS.unparse_flags()
        out = io.StringIO()
        error = None
        try:
            args = parser.parse_args(argv)
            with contextlib.redirect_stdout(out):
                args.func()
        except BaseException as e:  # pylint: disable=broad-except
            error = f"{type(e).__name__}: {e}"
        answers.append({"stdout": out.getvalue(), "error": error})
    return answers


def hashes(request):
    return {
        "hashes": [str(hash(s) & (2**64 - 1)) for s in request["strings"]],
        "sets": [list(set(items)) for items in request["sets"]],
    }


def main():
    request = json.load(sys.stdin)
    handler = {"literal": literal, "format": format_arrays, "npy": npy, "cli": cli, "hash": hashes}[request["mode"]]
    answer = handler(request)
    sys.stdout.write(json.dumps(answer))


if __name__ == "__main__":
    main()
