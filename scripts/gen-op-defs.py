"""Writes src/server/runtime/graph/op-defs.json: TensorFlow's registered OpDefs, trimmed.

SavedModels omit attrs that have default values, and the OpDef list stored in a SavedModel
(meta_info_def.stripped_op_list) is incomplete in TF 2.0-2.3 exports, so the runtime ships this
table as a fallback. It keeps what the graph rewriter needs (arguments, attrs with defaults) and
drops documentation and training-only ops. Regenerate after changing the pinned TensorFlow:

    $(bash scripts/python-env.sh | tail -1)/bin/python scripts/gen-op-defs.py
"""
import json
import os
import re

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402
from google.protobuf import json_format  # noqa: E402
from tensorflow.core.framework import op_def_pb2  # noqa: E402
from tensorflow.python.client import pywrap_tf_session as c_api  # noqa: E402

# Ops that never appear in an inference graph we can run (training updates, TPU/XLA, I/O).
EXCLUDE = re.compile(
    r"^(Resource)?(Sparse)?Apply|^Tpu|^TPU|^Xla|^_Mkl|^_Xla|^_Tpu|^Collective|^Nccl|^Experimental"
    r"|^Dataset|Dataset$|Iterator|^Boosted|^Enqueue|^Dequeue|^Recv|^Send|^_Recv|^_Send|Summary"
)


def trimmed_op_list():
    buf = c_api.TF_GetAllOpList()
    ops = op_def_pb2.OpList()
    ops.ParseFromString(c_api.TF_GetBuffer(buf))
    kept = op_def_pb2.OpList()
    for op in sorted(ops.op, key=lambda o: o.name):
        if EXCLUDE.search(op.name):
            continue
        op.summary = ""
        op.description = ""
        op.ClearField("deprecation")
        for arg in list(op.input_arg) + list(op.output_arg):
            arg.description = ""
            arg.ClearField("handle_data")
            arg.ClearField("experimental_full_type")
        for attr in op.attr:
            attr.description = ""
            attr.ClearField("allowed_values")
        kept.op.append(op)
    return kept


def main():
    out = os.path.join(os.path.dirname(__file__), "..", "src", "server", "runtime", "graph", "op-defs.json")
    data = json_format.MessageToDict(trimmed_op_list())
    data["tensorflowVersion"] = tf.__version__
    with open(out, "w") as f:
        json.dump(data, f, separators=(",", ":"), sort_keys=True)
        f.write("\n")
    print(f"wrote {len(data['op'])} OpDefs from TensorFlow {tf.__version__} to {os.path.normpath(out)}")


if __name__ == "__main__":
    main()
