"""Calls a tensorflow_model_server over gRPC with TF Serving's own Python client.

Reads {"address": "host:port", "calls": [...]} as JSON on stdin, makes the calls in order on one
channel and prints one JSON list with a result per call: {"id", "response": ...} or
{"id", "error": {"code": "NOT_FOUND", "details": "..."}} (grpc.StatusCode name and details, as
the client sees them). Tensors travel as {"dtype": numpy name, "shape", "values"}, strings base64,
64-bit integers as decimal strings.

Calls ("rpc" picks the method):
  Predict           spec, inputs {alias: tensor}, output_filter?
  Classify/Regress  spec, examples [features] | serialized_examples [b64], context? features
  MultiInference    tasks [{spec, method_name}], examples | serialized_examples, context?
  GetModelMetadata  spec, metadata_field [..]
  GetModelStatus    spec
  HandleReloadConfigRequest  config_text (ModelServerConfig in text format)
  raw               path, bytes_b64 (sent as is, no serializer)
where spec = {name, version?, label?, signature_name?}, any call may carry "metadata" {key: value}
(sent as the call's gRPC metadata), and features = {name: {"float"|"int64"|"bytes": [..]}}.
"""
import base64
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import grpc  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from google.protobuf import json_format, text_format  # noqa: E402
from tensorflow_serving.apis import (  # noqa: E402
    classification_pb2,
    get_model_metadata_pb2,
    get_model_status_pb2,
    inference_pb2,
    model_management_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
    regression_pb2,
)

TIMEOUT_S = 60
# JSON has no NaN or infinities: they travel as the strings JavaScript's Number() reads.
NON_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def fill_spec(target, spec):
    target.name = spec["name"]
    if "version" in spec:
        target.version.value = int(spec["version"])
    if "label" in spec:
        target.version_label = spec["label"]
    if "signature_name" in spec:
        target.signature_name = spec["signature_name"]


def spec_json(spec):
    return {
        "name": spec.name,
        "version": spec.version.value if spec.HasField("version") else None,
        "signature_name": spec.signature_name,
    }


def call_metadata(call):
    return tuple((key, value) for key, value in call.get("metadata", {}).items())


def to_ndarray(tensor):
    if tensor["dtype"] in ("string", "bytes", "object"):
        values = [base64.b64decode(v) for v in tensor["values"]]
        return np.array(values, dtype=object).reshape(tensor["shape"])
    values = tensor["values"]
    if tensor["dtype"] in ("int64", "uint64"):
        values = [int(v) for v in values]
    return np.array(values, dtype=tensor["dtype"]).reshape(tensor["shape"])


def tensor_json(proto):
    array = tf.make_ndarray(proto)
    flat = array.reshape(-1).tolist()
    if array.dtype == object:
        return {"dtype": "string", "shape": list(array.shape), "values": [base64.b64encode(v).decode() for v in flat]}
    if array.dtype in (np.int64, np.uint64):
        flat = [str(v) for v in flat]
    elif array.dtype.kind == "f":
        flat = [v if np.isfinite(v) else NON_FINITE[str(v)] for v in flat]
    return {"dtype": array.dtype.name, "shape": list(array.shape), "values": flat}


def example(features):
    feature = {}
    for name, value in features.items():
        if "float" in value:
            feature[name] = tf.train.Feature(float_list=tf.train.FloatList(value=value["float"]))
        elif "int64" in value:
            feature[name] = tf.train.Feature(int64_list=tf.train.Int64List(value=value["int64"]))
        else:
            raw = [base64.b64decode(v) for v in value["bytes"]]
            feature[name] = tf.train.Feature(bytes_list=tf.train.BytesList(value=raw))
    return tf.train.Example(features=tf.train.Features(feature=feature))


def fill_input(target, call):
    if "serialized_examples" in call:
        examples = [tf.train.Example.FromString(base64.b64decode(e)) for e in call["serialized_examples"]]
    else:
        examples = [example(f) for f in call["examples"]]
    if "context" in call:
        target.example_list_with_context.examples.extend(examples)
        target.example_list_with_context.context.CopyFrom(example(call["context"]))
    else:
        target.example_list.examples.extend(examples)


def classifications_json(result):
    return [[{"label": c.label, "score": c.score} for c in row.classes] for row in result.classifications]


def regressions_json(result):
    return [r.value for r in result.regressions]


def predict(stubs, call):
    request = predict_pb2.PredictRequest()
    fill_spec(request.model_spec, call["spec"])
    for alias, tensor in call["inputs"].items():
        request.inputs[alias].CopyFrom(tf.make_tensor_proto(to_ndarray(tensor)))
    request.output_filter.extend(call.get("output_filter", []))
    response = stubs["prediction"].Predict(request, timeout=TIMEOUT_S, metadata=call_metadata(call))
    return {
        "model_spec": spec_json(response.model_spec),
        "outputs": {alias: tensor_json(t) for alias, t in response.outputs.items()},
        "encodings": {alias: "tensor_content" if t.tensor_content else "typed" for alias, t in response.outputs.items()},
    }


def classify(stubs, call):
    request = classification_pb2.ClassificationRequest()
    fill_spec(request.model_spec, call["spec"])
    fill_input(request.input, call)
    response = stubs["prediction"].Classify(request, timeout=TIMEOUT_S, metadata=call_metadata(call))
    return {"model_spec": spec_json(response.model_spec), "classifications": classifications_json(response.result)}


def regress(stubs, call):
    request = regression_pb2.RegressionRequest()
    fill_spec(request.model_spec, call["spec"])
    fill_input(request.input, call)
    response = stubs["prediction"].Regress(request, timeout=TIMEOUT_S, metadata=call_metadata(call))
    return {"model_spec": spec_json(response.model_spec), "regressions": regressions_json(response.result)}


def multi_inference(stubs, call):
    request = inference_pb2.MultiInferenceRequest()
    for task in call["tasks"]:
        added = request.tasks.add()
        fill_spec(added.model_spec, task["spec"])
        added.method_name = task["method_name"]
    fill_input(request.input, call)
    response = stubs["prediction"].MultiInference(request, timeout=TIMEOUT_S, metadata=call_metadata(call))
    results = []
    for result in response.results:
        item = {"model_spec": spec_json(result.model_spec)}
        if result.HasField("classification_result"):
            item["classifications"] = classifications_json(result.classification_result)
        else:
            item["regressions"] = regressions_json(result.regression_result)
        results.append(item)
    return {"results": results}


def metadata(stubs, call):
    request = get_model_metadata_pb2.GetModelMetadataRequest()
    fill_spec(request.model_spec, call["spec"])
    request.metadata_field.extend(call["metadata_field"])
    response = stubs["prediction"].GetModelMetadata(request, timeout=TIMEOUT_S, metadata=call_metadata(call))
    packed = response.metadata["signature_def"]
    signature_defs = get_model_metadata_pb2.SignatureDefMap()
    if not packed.Unpack(signature_defs):
        raise ValueError("metadata['signature_def'] is not a SignatureDefMap: " + packed.type_url)
    return {
        "model_spec": spec_json(response.model_spec),
        "type_url": packed.type_url,
        "signature_def": json_format.MessageToDict(
            signature_defs, always_print_fields_with_no_presence=True, preserving_proto_field_name=True),
    }


def status(stubs, call):
    request = get_model_status_pb2.GetModelStatusRequest()
    fill_spec(request.model_spec, call["spec"])
    response = stubs["model"].GetModelStatus(request, timeout=TIMEOUT_S)
    return [
        {
            "version": v.version,
            "state": get_model_status_pb2.ModelVersionStatus.State.Name(v.state),
            "error_code": v.status.error_code,
            "error_message": v.status.error_message,
        }
        for v in response.model_version_status
    ]


def reload_config(stubs, call):
    request = model_management_pb2.ReloadConfigRequest()
    text_format.Parse(call["config_text"], request.config)
    response = stubs["model"].HandleReloadConfigRequest(request, timeout=TIMEOUT_S)
    return {"error_code": response.status.error_code, "error_message": response.status.error_message}


def raw(stubs, call):
    method = stubs["channel"].unary_unary(call["path"], request_serializer=None, response_deserializer=None)
    response = method(base64.b64decode(call["bytes_b64"]), timeout=TIMEOUT_S)
    return {"bytes_b64": base64.b64encode(response).decode()}


HANDLERS = {
    "Predict": predict,
    "Classify": classify,
    "Regress": regress,
    "MultiInference": multi_inference,
    "GetModelMetadata": metadata,
    "GetModelStatus": status,
    "HandleReloadConfigRequest": reload_config,
    "raw": raw,
}


def main():
    job = json.load(sys.stdin)
    channel = grpc.insecure_channel(job["address"])
    stubs = {
        "channel": channel,
        "prediction": prediction_service_pb2_grpc.PredictionServiceStub(channel),
        "model": model_service_pb2_grpc.ModelServiceStub(channel),
    }
    results = []
    for call in job["calls"]:
        try:
            results.append({"id": call["id"], "response": HANDLERS[call["rpc"]](stubs, call)})
        except grpc.RpcError as error:
            results.append({"id": call["id"], "error": {"code": error.code().name, "details": error.details()}})
    channel.close()
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
