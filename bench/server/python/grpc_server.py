"""An extra Python baseline: grpcio + TensorFlow serving PredictionService/Predict, the way the
grpcio examples write a servicer (ThreadPoolExecutor(max_workers=10)), converting with
tf.make_ndarray / tf.make_tensor_proto. Uses tensorflow-serving-api's generated stubs.
Logs {"event": "grpc_listening", "port": N} on stderr once bound.

    python grpc_server.py <saved_model_dir> [port]
"""
import json
import sys
from concurrent import futures

import grpc
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

model_dir = sys.argv[1]
port = int(sys.argv[2]) if len(sys.argv) > 2 else 0

model = tf.saved_model.load(model_dir)
infer = model.signatures["serving_default"]


class PredictionServicer(prediction_service_pb2_grpc.PredictionServiceServicer):
    def Predict(self, request, context):
        inputs = {key: tf.constant(tf.make_ndarray(proto)) for key, proto in request.inputs.items()}
        outputs = infer(**inputs)
        response = predict_pb2.PredictResponse()
        response.model_spec.CopyFrom(request.model_spec)
        for key, value in outputs.items():
            response.outputs[key].CopyFrom(tf.make_tensor_proto(value.numpy()))
        return response


if __name__ == "__main__":
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=10))
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(PredictionServicer(), server)
    bound = server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    print(json.dumps({"event": "grpc_listening", "port": bound}), file=sys.stderr, flush=True)
    server.wait_for_termination()
