#!/usr/bin/env python3
"""Build the small SavedModels the tests serve: test/models/<name>/<version>/.

Our own twins of the models TensorFlow Serving tests with (same signature keys, methods, aliases,
dtypes and arithmetic), exported by the pinned TensorFlow so that the test suite runs on a clone
alone. Tests that must check against TF Serving's own files read ../shared/savedmodels instead
(test/support/shared-savedmodels.ts).

  half_plus_two/00000123             TF1 SavedModelBuilder export, variables a=0.5 b=2 c=3
      serving_default   (predict)   x float[-1,1] -> y = a*x + b
      classify_x_to_y   (classify)  serialized tf.Example, float feature x -> scores = a*x + b
      classify_x2_to_y3 (classify)  x2 float[-1,1] -> scores = a*x2 + c
      regress_x_to_y    (regress)   tf.Example x -> outputs = a*x + b
      regress_x_to_y2   (regress)   tf.Example x -> outputs = a*x + c
      regress_x2_to_y3  (regress)   x2 float[-1,1] -> outputs = a*x2 + c
  half_plus_two_2_versions/00000123, 00000124   the same graph twice (as TF Serving's is)
  half_plus_three/00000123           TF1: serving_default y = a*x + 3, and a regress signature
                                     keyed "tensorflow/serving/regress"
  half_plus_four/00000123            half_plus_two's graph and six signatures with b=4 (y = a*x + 4):
                                     a second version that answers differently on every signature
  half_plus_two_fails_from_7/00000123  TF1: serving_default x float[-1,1] -> y = a*x + 2 behind an
                                     Assert(all(x < 7)): fails the requests with an x >= 7
  half_plus_two_tf2/00000123         TF2 tf.Module (tf.saved_model.save) with the six signatures
                                     above, every method tensorflow/serving/predict
  int64_times_six/00000123           TF2: x int64[-1] -> output_0 = 6*x (int64 end to end)
  counter/00000123                   TF1 stateful float variable `counter`: get_counter,
                                     incr_counter, incr_counter_by (input delta), reset_counter
  half_plus_two_tflite/00000123      model.tflite only (tf.lite.TFLiteConverter.from_session, as
                                     TF Serving's saved_model_half_plus_two_tflite): x float[-1,1]
                                     -> y = 0.5*x + 2, for --prefer_tflite_model

Run it with the pinned environment (deterministic; the files are committed):

  venv="$(bash scripts/python-env.sh | tail -n1)"
  "$venv/bin/python" test/models/generate.py
"""

import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
sys.dont_write_bytecode = True

import tensorflow as tf  # noqa: E402

tf.get_logger().setLevel("ERROR")
v1 = tf.compat.v1

OUT = Path(__file__).resolve().parent
PREDICT = "tensorflow/serving/predict"
CLASSIFY = "tensorflow/serving/classify"
REGRESS = "tensorflow/serving/regress"


def tensor_info(t):
    return v1.saved_model.utils.build_tensor_info(t)


def signature(inputs, outputs, method):
    return v1.saved_model.signature_def_utils.build_signature_def(
        inputs={k: tensor_info(v) for k, v in inputs.items()},
        outputs={k: tensor_info(v) for k, v in outputs.items()},
        method_name=method)


def fresh(path):
    if path.exists():
        shutil.rmtree(path)
    path.parent.mkdir(parents=True, exist_ok=True)


def export_tf1(path, build):
    """Builds a graph with `build(session) -> signatures`, saves it with SavedModelBuilder."""
    fresh(path)
    with tf.Graph().as_default():
        with v1.Session() as session:
            signatures, assets = build()
            session.run(v1.global_variables_initializer())
            builder = v1.saved_model.Builder(str(path))
            builder.add_meta_graph_and_variables(
                session, [v1.saved_model.tag_constants.SERVING],
                signature_def_map=signatures,
                assets_collection=v1.get_collection(v1.GraphKeys.ASSET_FILEPATHS) if assets else None,
                main_op=v1.tables_initializer(),
                strip_default_attrs=True)
            builder.save()


def asset_file(name, text):
    """An asset registered the TF1 way (copied into assets/ by the builder)."""
    scratch = OUT / ".scratch"
    scratch.mkdir(exist_ok=True)
    file = scratch / name
    file.write_text(text)
    filename = tf.constant(str(file), name="filename_tensor")
    v1.add_to_collection(v1.GraphKeys.ASSET_FILEPATHS, filename)


def half_plus(b_value, with_x2_signatures):
    def build():
        a = v1.Variable(0.5, name="a")
        b = v1.Variable(b_value, name="b")
        c = v1.Variable(3.0, name="c")
        serialized = v1.placeholder(tf.string, name="tf_example")
        features = v1.parse_example(serialized, {
            "x": v1.FixedLenFeature([1], tf.float32),
            "x2": v1.FixedLenFeature([1], tf.float32, default_value=[0.0]),
        })
        x = tf.identity(features["x"], name="x")
        x2 = v1.placeholder_with_default(features["x2"], [None, 1], name="x2")
        y = tf.add(tf.multiply(a, x), b, name="y")
        y2 = tf.add(tf.multiply(a, x), c, name="y2")
        y3 = tf.add(tf.multiply(a, x2), c, name="y3")
        asset_file("foo.txt", "asset-file-contents")
        if not with_x2_signatures:
            return {
                "serving_default": signature({"x": x}, {"y": y}, PREDICT),
                REGRESS: signature({"inputs": serialized}, {"outputs": y}, REGRESS),
            }, True
        return {
            "serving_default": signature({"x": x}, {"y": y}, PREDICT),
            "classify_x_to_y": signature({"inputs": serialized}, {"scores": y}, CLASSIFY),
            "classify_x2_to_y3": signature({"inputs": x2}, {"scores": y3}, CLASSIFY),
            "regress_x_to_y": signature({"inputs": serialized}, {"outputs": y}, REGRESS),
            "regress_x_to_y2": signature({"inputs": serialized}, {"outputs": y2}, REGRESS),
            "regress_x2_to_y3": signature({"inputs": x2}, {"outputs": y3}, REGRESS),
        }, True
    return build


def fails_from_seven():
    def build():
        a = v1.Variable(0.5, name="a")
        b = v1.Variable(2.0, name="b")
        x = v1.placeholder(tf.float32, shape=[None, 1], name="x")
        check = v1.Assert(tf.reduce_all(tf.less(x, 7.0)), ["x must be below 7, got", x], name="x_below_7")
        with tf.control_dependencies([check]):
            y = tf.add(tf.multiply(a, x), b, name="y")
        return {"serving_default": signature({"x": x}, {"y": y}, PREDICT)}, False
    return build


def counter():
    def build():
        var = v1.Variable(0.0, name="counter", use_resource=False)
        delta = v1.placeholder(tf.float32, shape=[], name="delta")
        get = tf.identity(var, name="get_counter")
        incr = v1.assign_add(var, 1.0, name="incr_counter")
        incr_by = v1.assign_add(var, delta, name="incr_counter_by")
        reset = v1.assign(var, 0.0, name="reset_counter")
        return {
            "get_counter": signature({}, {"output": get}, PREDICT),
            "incr_counter": signature({}, {"output": incr}, PREDICT),
            "incr_counter_by": signature({"delta": delta}, {"output": incr_by}, PREDICT),
            "reset_counter": signature({}, {"output": reset}, PREDICT),
        }, False
    return build


class HalfPlusTwo(tf.Module):
    def __init__(self):
        super().__init__()
        self.a = tf.Variable(0.5)
        self.b = tf.Variable(2.0)
        self.c = tf.Variable(3.0)

    def parse(self, serialized):
        return tf.io.parse_example(serialized, {"x": tf.io.FixedLenFeature([1], tf.float32)})["x"]

    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def predict(self, x):
        return {"y": self.a * x + self.b}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def classify_x_to_y(self, inputs):
        return {"scores": self.a * self.parse(inputs) + self.b}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def classify_x2_to_y3(self, inputs):
        return {"scores": self.a * inputs + self.c}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def regress_x_to_y(self, inputs):
        return {"outputs": self.a * self.parse(inputs) + self.b}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def regress_x_to_y2(self, inputs):
        return {"outputs": self.a * self.parse(inputs) + self.c}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def regress_x2_to_y3(self, inputs):
        return {"outputs": self.a * inputs + self.c}


def export_tf2(path):
    fresh(path)
    module = HalfPlusTwo()
    tf.saved_model.save(module, str(path), signatures={
        "serving_default": module.predict,
        "classify_x_to_y": module.classify_x_to_y,
        "classify_x2_to_y3": module.classify_x2_to_y3,
        "regress_x_to_y": module.regress_x_to_y,
        "regress_x_to_y2": module.regress_x_to_y2,
        "regress_x2_to_y3": module.regress_x2_to_y3,
    })
    fingerprint = path / "fingerprint.pb"
    if fingerprint.exists():
        fingerprint.unlink()  # differs on every export; nothing reads it


class Int64TimesSix(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([None], tf.int64, name="x")])
    def __call__(self, x):
        return x * tf.constant(6, tf.int64)


def export_int64(path):
    fresh(path)
    module = Int64TimesSix()
    tf.saved_model.save(module, str(path), signatures={"serving_default": module.__call__})
    (path / "fingerprint.pb").unlink(missing_ok=True)


def export_tflite(path):
    """TF Serving's as_tflite half_plus_two: the TF1 graph converted from the session, no SavedModel."""
    fresh(path)
    path.mkdir()
    with tf.Graph().as_default(), v1.Session() as session:
        a = v1.Variable(0.5, name="a")
        b = v1.Variable(2.0, name="b")
        x = v1.placeholder(tf.float32, shape=[None, 1], name="x")
        y = tf.identity(tf.add(tf.multiply(a, x), b), name="y")
        session.run(v1.global_variables_initializer())
        model = v1.lite.TFLiteConverter.from_session(session, [x], [y]).convert()
    (path / "model.tflite").write_bytes(model)


def main():
    export_tf1(OUT / "half_plus_two" / "00000123", half_plus(2.0, True))
    for version in ("00000123", "00000124"):
        export_tf1(OUT / "half_plus_two_2_versions" / version, half_plus(2.0, True))
    export_tf1(OUT / "half_plus_three" / "00000123", half_plus(3.0, False))
    export_tf1(OUT / "half_plus_four" / "00000123", half_plus(4.0, True))
    export_tf1(OUT / "half_plus_two_fails_from_7" / "00000123", fails_from_seven())
    export_tf1(OUT / "counter" / "00000123", counter())
    export_tf2(OUT / "half_plus_two_tf2" / "00000123")
    export_int64(OUT / "int64_times_six" / "00000123")
    export_tflite(OUT / "half_plus_two_tflite" / "00000123")
    shutil.rmtree(OUT / ".scratch", ignore_errors=True)
    print(f"wrote {OUT} with TensorFlow {tf.__version__}")


if __name__ == "__main__":
    main()
