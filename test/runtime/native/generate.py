"""SavedModels for the native engine's tests, with TensorFlow's own answers.

Writes into --out (a new directory): one SavedModel per family and cases.json, whose expected
outputs come from TensorFlow itself (tf.saved_model.load, then the signature's concrete function).
Tensors are written as raw little-endian bytes (base64) with numpy's dtype name, strings as a list
of base64 values, so every dtype (float16, bfloat16, complex, uint64 ...) is carried exactly.

Families:
- keras_behind_function: tf.saved_model.save of a tf.Module whose tf.functions capture a Keras
  network's variables (MobileNet behind a uint8 preprocessing function, and an image-bytes
  signature decoding JPEGs with map_fn). TF Serving serves such exports (session + restore).
- every_dtype: one signature per dtype, each computing on its input (reverse, and an op of the
  dtype's kind), with values at the dtype's limits (int64/uint64 beyond 2^53, float64 beyond
  float32, NaN/Inf, non-UTF-8 bytes).
"""
import argparse
import base64
import io
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402


def encode(array):
    array = np.asarray(array)
    if array.dtype == object or array.dtype.kind == "S":
        return {"dtype": "string", "shape": list(array.shape),
                "values": [base64.b64encode(v).decode() for v in array.reshape(-1).tolist()]}
    name = array.dtype.name
    return {"dtype": name, "shape": list(array.shape),
            "bytes": base64.b64encode(np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes()).decode()}


def jpeg(rng, h, w):
    pixels = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
    return tf.io.encode_jpeg(pixels).numpy()


class Classifier(tf.Module):
    def __init__(self):
        super().__init__()
        self.net = keras.applications.MobileNet(input_shape=(32, 32, 3), alpha=0.25, weights=None, classes=5)

    @tf.function(input_signature=[tf.TensorSpec([None, 32, 32, 3], tf.uint8, name="images")])
    def classify_pixels(self, images):
        x = tf.cast(images, tf.float32) / 127.5 - 1.0
        return {"probabilities": self.net(x, training=False)}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="image_bytes")])
    def classify_jpeg(self, image_bytes):
        def decode(b):
            image = tf.io.decode_jpeg(b, channels=3)
            return tf.image.resize(tf.cast(image, tf.float32), (32, 32))
        x = tf.map_fn(decode, image_bytes, fn_output_signature=tf.float32) / 127.5 - 1.0
        probabilities = self.net(x, training=False)
        return {"probabilities": probabilities, "top": tf.argmax(probabilities, axis=-1)}


def build_keras_behind_function(export_dir, rng):
    module = Classifier()
    for v in module.net.weights:
        value = rng.normal(0, 0.3, size=v.shape).astype("float32")
        v.assign(1.0 + np.abs(value) if "variance" in v.name else value)
    tf.saved_model.save(module, export_dir, signatures={
        "serving_default": module.classify_pixels, "classify_jpeg": module.classify_jpeg})
    return [
        ("serving_default", {"images": rng.integers(0, 256, size=(2, 32, 32, 3), dtype=np.uint8)}),
        ("classify_jpeg", {"image_bytes": np.array([jpeg(rng, 40, 30), jpeg(rng, 32, 32), jpeg(rng, 17, 50)], dtype=object)}),
    ]


DTYPES = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16", "bfloat16",
          "float32", "float64", "complex64", "complex128", "bool", "string"]


def kind_op(dtype, x):
    if dtype == tf.bool:
        return tf.logical_not(x)
    if dtype == tf.string:
        return tf.strings.join([x, x])
    if dtype in (tf.complex64, tf.complex128):
        return tf.math.conj(x)
    if dtype in (tf.float16, tf.bfloat16, tf.float32, tf.float64):
        return tf.math.negative(x)
    return tf.bitwise.invert(x)


class EveryDtype(tf.Module):
    pass


def dtype_values(name, rng):
    if name == "string":
        return np.array([b"hello", b"", b"\xff\x00\xfe binary", "héllo".encode()], dtype=object)
    if name == "bool":
        return np.array([True, False, True])
    if name.startswith("complex"):
        return np.array([1 + 2j, -3.5 - 0.25j, 1e30 + 1e-30j], dtype=name)
    if name in ("float16", "bfloat16", "float32", "float64"):
        extreme = {"float16": 65504.0, "bfloat16": 3.0e38, "float32": 3.4e38, "float64": 1e300}[name]
        import ml_dtypes  # noqa: F401 (bfloat16 for numpy)
        dt = ml_dtypes.bfloat16 if name == "bfloat16" else name
        return np.array([0.1, -extreme, np.inf, np.nan, 1.0 / 3.0], dtype=dt)
    info = np.iinfo(name)
    return np.array([info.min, info.max, 0, 7, info.max // 3], dtype=name)


def build_every_dtype(export_dir, rng):
    module = EveryDtype()
    signatures = {}
    for name in DTYPES:
        dtype = tf.as_dtype(name)

        def fn(x, dtype=dtype):
            return {"reversed": tf.reverse(x, axis=[0]), "op": kind_op(dtype, x)}
        concrete = tf.function(fn, input_signature=[tf.TensorSpec([None], dtype, name="x")])
        setattr(module, f"f_{name}", concrete)
        signatures[name] = concrete
    tf.saved_model.save(module, export_dir, signatures=signatures)
    return [(name, {"x": dtype_values(name, rng)}) for name in DTYPES]


FAMILIES = {"keras_behind_function": build_keras_behind_function, "every_dtype": build_every_dtype}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=False)
    rng = np.random.default_rng(8)
    models = []
    for name, build in FAMILIES.items():
        export_dir = os.path.join(args.out, name)
        cases = build(export_dir, rng)
        loaded = tf.saved_model.load(export_dir)
        recorded = []
        for signature, inputs in cases:
            fn = loaded.signatures[signature]
            outputs = fn(**{k: tf.constant(v) for k, v in inputs.items()})
            recorded.append({"signature": signature,
                             "inputs": {k: encode(v) for k, v in inputs.items()},
                             "outputs": {k: encode(v.numpy()) for k, v in outputs.items()}})
        models.append({"name": name, "dir": export_dir, "cases": recorded})
    with open(os.path.join(args.out, "cases.json"), "w") as f:
        json.dump({"tensorflow_version": tf.__version__, "models": models}, f)
    print(f"native fixtures: {len(models)} models in {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
