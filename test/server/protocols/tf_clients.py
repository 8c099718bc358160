"""Runs the shared protocol cases through TF Serving's API with its real clients: REST with
requests (TF Serving's JSON, columnar "inputs") and gRPC with tensorflow-serving-api.

Reads the same {"rest", "grpc", "cases"} as oip_clients.py; prints {"tfserving.rest": {...},
"tfserving.grpc": {...}} with results in its format. A version that is not a number is a label.
"""
import base64
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import grpc  # noqa: E402
import numpy as np  # noqa: E402
import requests  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc  # noqa: E402

NUMPY = {"FP32": np.float32, "FP64": np.float64, "INT64": np.int64, "INT32": np.int32, "BOOL": np.bool_}
DATATYPE = {"float32": "FP32", "float64": "FP64", "int64": "INT64", "int32": "INT32", "bool": "BOOL", "object": "BYTES"}


def values_of(tensor):
    if tensor["datatype"] == "BYTES":
        return [base64.b64decode(v) for v in tensor["values"]]
    return tensor["values"]


def describe(array):
    array = np.asarray(array)
    if array.dtype == np.object_:
        return {"datatype": "BYTES", "shape": list(array.shape), "values": [base64.b64encode(v).decode() for v in array.ravel()]}
    values = [int(v) if array.dtype.kind in "iu" else float(v) for v in array.ravel()]
    return {"datatype": DATATYPE.get(str(array.dtype)), "shape": list(array.shape), "values": values}


def rest_case(address, case):
    path = f"http://{address}/v1/models/{case['model']}"
    version = case.get("version", "")
    if version:
        path += f"/versions/{version}" if version.isdigit() else f"/labels/{version}"
    inputs = {}
    for tensor in case["inputs"]:
        flat = [{"b64": v} for v in tensor["values"]] if tensor["datatype"] == "BYTES" else tensor["values"]
        inputs[tensor["name"]] = np.array(flat, dtype=object).reshape(tensor["shape"]).tolist()
    body = {"inputs": inputs}
    if case.get("signature"):
        body["signature_name"] = case["signature"]
    response = requests.post(f"{path}:predict", json=body, timeout=60)
    doc = response.json()
    if response.status_code != 200:
        return {"error": {"status": str(response.status_code), "message": doc.get("error", "")}}
    outputs = doc["outputs"]
    # One output comes unnamed (TF Serving's columnar format); the case says which it is.
    if not isinstance(outputs, dict):
        outputs = {case.get("single_output", ""): outputs}
    return {"outputs": {name: {"shape": list(np.array(value).shape), "values": np.array(value, dtype=np.float64).ravel().tolist()} for name, value in outputs.items()}}


def grpc_case(stub, case):
    request = predict_pb2.PredictRequest()
    request.model_spec.name = case["model"]
    version = case.get("version", "")
    if version.isdigit():
        request.model_spec.version.value = int(version)
    elif version:
        request.model_spec.version_label = version
    if case.get("signature"):
        request.model_spec.signature_name = case["signature"]
    for tensor in case["inputs"]:
        dtype = tf.string if tensor["datatype"] == "BYTES" else NUMPY[tensor["datatype"]]
        request.inputs[tensor["name"]].CopyFrom(tf.make_tensor_proto(values_of(tensor), dtype=dtype, shape=tensor["shape"]))
    request.output_filter.extend(case.get("outputs") or [])
    try:
        response = stub.Predict(request, timeout=60)
    except grpc.RpcError as e:
        return {"error": {"status": e.code().name, "message": e.details()}}
    return {
        "model_version": str(response.model_spec.version.value),
        "outputs": {name: describe(tf.make_ndarray(proto)) for name, proto in response.outputs.items()},
    }


def main():
    request = json.load(sys.stdin)
    stub = prediction_service_pb2_grpc.PredictionServiceStub(grpc.insecure_channel(request["grpc"]))
    results = {"tfserving.rest": {}, "tfserving.grpc": {}}
    for case in request["cases"]:
        results["tfserving.rest"][case["id"]] = rest_case(request["rest"], case)
        results["tfserving.grpc"][case["id"]] = grpc_case(stub, case)
    json.dump(results, sys.stdout)


main()
