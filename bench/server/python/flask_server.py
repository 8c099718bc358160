"""The baseline a TensorFlow user writes without Docker: Flask + TensorFlow, tutorial style.

Loads the SavedModel with tf.saved_model.load, takes its serving_default signature, and serves
POST /v1/models/<name>:predict ({"instances": [...]} -> {"predictions": [...]}) with Flask's
built-in Werkzeug server, threaded=True (exactly what app.run() starts: make_server + serve_forever,
no reloader, no debugger). The per-request access log is turned off (generous to Flask).
Logs {"event": "rest_listening", "port": N} on stderr once bound.

    python flask_server.py <saved_model_dir> [port]
"""
import json
import logging
import sys

import tensorflow as tf
from flask import Flask, jsonify, request
from werkzeug.serving import make_server

model_dir = sys.argv[1]
port = int(sys.argv[2]) if len(sys.argv) > 2 else 0

model = tf.saved_model.load(model_dir)
infer = model.signatures["serving_default"]
input_name = next(iter(infer.structured_input_signature[1]))
input_dtype = infer.structured_input_signature[1][input_name].dtype

app = Flask(__name__)


@app.route("/v1/models/<name>:predict", methods=["POST"])
def predict(name):
    data = request.get_json()
    x = tf.constant(data["instances"], dtype=input_dtype)
    outputs = infer(**{input_name: x})
    if len(outputs) == 1:
        predictions = next(iter(outputs.values())).numpy().tolist()
    else:
        predictions = {key: value.numpy().tolist() for key, value in outputs.items()}
    return jsonify({"predictions": predictions})


if __name__ == "__main__":
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", port, app, threaded=True)
    print(json.dumps({"event": "rest_listening", "port": server.port}), file=sys.stderr, flush=True)
    server.serve_forever()
