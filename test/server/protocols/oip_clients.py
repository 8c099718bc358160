"""Runs the shared protocol cases with the Open Inference Protocol's real Python clients.

`oip_clients.py triton` or `oip_clients.py kserve` (one per process: both packages register the
protocol's `inference.*` messages in protobuf's default pool, which refuses a second copy).
Reads {"rest": "host:port", "grpc": "host:port", "cases": [...]} on stdin; prints
{client: {case id: result}} for the clients tritonclient.http(.json), tritonclient.grpc, or
kserve.rest and kserve.grpc. A case is {"id", "model", "version"?, "signature"?, "inputs": [{"name", "datatype",
"shape", "values"}], "outputs"?: [names]} (BYTES values base64). A result is {"outputs": {name:
{"datatype", "shape", "values"}}, "model_version"} or {"error": {"status", "message"}} where
status is the HTTP status (REST) or the grpc.StatusCode name (gRPC), as each client reports it.
"""
import asyncio
import base64
import json
import sys

import numpy as np

TRITON = sys.argv[1] in ("triton", "repository")
if TRITON:
    import tritonclient.grpc as triton_grpc
    import tritonclient.http as triton_http
    from tritonclient.utils import InferenceServerException
else:
    import grpc
    import httpx
    from kserve import InferenceGRPCClient, InferenceRESTClient, RESTConfig
    from kserve.protocol.infer_type import InferInput as KInferInput
    from kserve.protocol.infer_type import InferRequest as KInferRequest
    from kserve.protocol.infer_type import RequestedOutput as KRequestedOutput

NUMPY = {"BOOL": np.bool_, "INT8": np.int8, "INT16": np.int16, "INT32": np.int32, "INT64": np.int64, "UINT8": np.uint8,
         "UINT16": np.uint16, "UINT32": np.uint32, "UINT64": np.uint64, "FP16": np.float16, "FP32": np.float32, "FP64": np.float64}
DATATYPE = {np.dtype(v).name: k for k, v in NUMPY.items()}


def array_of(tensor):
    if tensor["datatype"] == "BYTES":
        return np.array([base64.b64decode(v) for v in tensor["values"]], dtype=np.object_).reshape(tensor["shape"])
    return np.array(tensor["values"], dtype=NUMPY[tensor["datatype"]]).reshape(tensor["shape"])


def describe(array, datatype=None):
    array = np.asarray(array)
    if array.dtype == np.object_ or array.dtype.kind == "S":
        values = [base64.b64encode(v if isinstance(v, bytes) else str(v).encode()).decode() for v in array.ravel()]
        return {"datatype": "BYTES", "shape": list(array.shape), "values": values}
    values = [int(v) if array.dtype.kind in "iu" else bool(v) if array.dtype.kind == "b" else float(v) for v in array.ravel()]
    return {"datatype": datatype or DATATYPE[array.dtype.name], "shape": list(array.shape), "values": values}


def params(case):
    return {"signature_name": case["signature"]} if case.get("signature") else None


def triton_case(module, client, case, binary):
    inputs = []
    for tensor in case["inputs"]:
        x = module.InferInput(tensor["name"], tensor["shape"], tensor["datatype"])
        if module is triton_http:
            x.set_data_from_numpy(array_of(tensor), binary_data=binary)
        else:
            x.set_data_from_numpy(array_of(tensor))
        inputs.append(x)
    outputs = None
    if case.get("outputs"):
        outputs = [module.InferRequestedOutput(n, binary_data=binary) if module is triton_http else module.InferRequestedOutput(n) for n in case["outputs"]]
    result = client.infer(case["model"], inputs, model_version=case.get("version", ""), outputs=outputs, parameters=params(case))
    response = result.get_response(as_json=True) if module is triton_grpc else result.get_response()
    names = [o["name"] for o in response["outputs"]]
    return {
        "model_version": response.get("model_version", response.get("modelVersion")),
        "outputs": {n: describe(result.as_numpy(n), next(o["datatype"] for o in response["outputs"] if o["name"] == n)) for n in names},
    }


def kserve_request(case):
    inputs = []
    for tensor in case["inputs"]:
        x = KInferInput(tensor["name"], tensor["shape"], tensor["datatype"])
        # JSON for numbers; binary tensor data for BYTES (kserve's JSON holds only UTF-8 strings).
        x.set_data_from_numpy(array_of(tensor), binary_data=tensor["datatype"] == "BYTES")
        inputs.append(x)
    requested = [KRequestedOutput(n) for n in case["outputs"]] if case.get("outputs") else None
    return KInferRequest(model_name=case["model"], infer_inputs=inputs, parameters=params(case), request_outputs=requested,
                         model_version=case.get("version"))


def kserve_result(response):
    return {
        "model_version": response.model_version,
        "outputs": {o.name: describe(o.as_numpy(), o.datatype) for o in response.outputs},
    }


async def kserve_cases(rest, grpc_address, cases):
    rest_client = InferenceRESTClient(RESTConfig(protocol="v2", retries=0, timeout=60))
    grpc_client = InferenceGRPCClient(grpc_address, retries=2, timeout=60)
    rest_results, grpc_results = {}, {}
    for case in cases:
        try:
            # The REST client puts no version in its URL: versioned cases go through gRPC only.
            if case.get("version"):
                rest_results[case["id"]] = {"skipped": "kserve's REST client has no model version"}
            else:
                rest_results[case["id"]] = kserve_result(await rest_client.infer(f"http://{rest}", kserve_request(case), model_name=case["model"]))
        except httpx.HTTPStatusError as e:
            rest_results[case["id"]] = {"error": {"status": str(e.response.status_code), "message": e.response.json().get("error", "")}}
        try:
            grpc_results[case["id"]] = kserve_result(await grpc_client.infer(kserve_request(case)))
        except grpc.aio.AioRpcError as e:
            grpc_results[case["id"]] = {"error": {"status": e.code().name, "message": e.details()}}
    health = {
        "rest_server_ready": await rest_client.is_server_ready(f"http://{rest}"),
        "rest_model_ready": await rest_client.is_model_ready(f"http://{rest}", cases[0]["model"]),
        "grpc_server_ready": await grpc_client.is_server_ready(),
        "grpc_model_ready": await grpc_client.is_model_ready(cases[0]["model"]),
    }
    await rest_client.close()
    await grpc_client.close()
    return rest_results, grpc_results, health


def repository_calls(request):
    """Triton's model repository extension: unload over HTTP, load back over gRPC."""
    http_client = triton_http.InferenceServerClient(request["rest"])
    grpc_client = triton_grpc.InferenceServerClient(request["grpc"])
    steps = {}
    http_client.unload_model("hp3")
    steps["after_unload"] = [http_client.is_model_ready("hp3"), [(m["name"], m.get("state"), m.get("reason", "")) for m in http_client.get_model_repository_index() if m["name"] == "hp3"]]
    try:
        http_client.load_model("never_configured")
    except InferenceServerException as e:
        steps["unknown"] = {"status": e.status(), "message": e.message()}
    grpc_client.load_model("hp3")
    steps["after_load"] = grpc_client.is_model_ready("hp3")
    return steps


def main():
    request = json.load(sys.stdin)
    cases = request["cases"]
    if sys.argv[1] == "repository":
        json.dump(repository_calls(request), sys.stdout)
        return
    if not TRITON:
        rest, grpc_kserve, health = asyncio.run(kserve_cases(request["rest"], request["grpc"], cases))
        json.dump({"kserve.rest": rest, "kserve.grpc": grpc_kserve, "kserve_health": health}, sys.stdout)
        return
    results = {"tritonclient.http": {}, "tritonclient.http.json": {}, "tritonclient.grpc": {}}
    http_client = triton_http.InferenceServerClient(request["rest"])
    grpc_client = triton_grpc.InferenceServerClient(request["grpc"])
    for case in cases:
        for name, module, client, binary in [
            ("tritonclient.http", triton_http, http_client, True),
            ("tritonclient.http.json", triton_http, http_client, False),
            ("tritonclient.grpc", triton_grpc, grpc_client, True),
        ]:
            try:
                results[name][case["id"]] = triton_case(module, client, case, binary)
            except InferenceServerException as e:
                status = e.status() or ""
                results[name][case["id"]] = {"error": {"status": status.replace("StatusCode.", ""), "message": e.message()}}
    model = cases[0]["model"]
    results["health"] = {
        "http": [http_client.is_server_live(), http_client.is_server_ready(), http_client.is_model_ready(model), http_client.is_model_ready("no_such_model")],
        "grpc": [grpc_client.is_server_live(), grpc_client.is_server_ready(), grpc_client.is_model_ready(model), grpc_client.is_model_ready("no_such_model")],
        "http_metadata": http_client.get_model_metadata(model),
        "grpc_metadata": grpc_client.get_model_metadata(model, as_json=True),
        "http_server": http_client.get_server_metadata(),
        "http_index": http_client.get_model_repository_index(),
    }
    json.dump(results, sys.stdout)


main()
