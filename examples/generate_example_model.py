#!/usr/bin/env python3
"""Build the README demo model: examples/models/iris_classifier/1/.

A small Iris flower classifier (4 measurements in cm -> 3 species), trained
with Keras on synthetic measurements drawn from the published per-species
means and standard deviations of the Iris data set, then exported as a plain
tf.Module SavedModel (a few KB) under a TF Serving base path with version 1.

Signatures:
  serving_default  features float32 [-1, 4] -> probabilities float32 [-1, 3],
                   class_id int64 [-1], class_name string [-1]
  logits           features float32 [-1, 4] -> logits float32 [-1, 3]

It also records what TensorFlow returns for the sample inputs in
examples/models/iris_classifier/expected.json (same format as the test
corpus cases.json). Run it with the pinned environment:

  venv="$(bash scripts/python-env.sh | tail -n1)"
  "$venv/bin/python" examples/generate_example_model.py
"""

import json
import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT / "test" / "corpus"))
sys.dont_write_bytecode = True  # no __pycache__ next to generate.py

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from generate import encode_tensor  # noqa: E402

tf.get_logger().setLevel("ERROR")

NAME = "iris_classifier"
MODEL_BASE = REPO_ROOT / "examples" / "models" / NAME
EXPORT_DIR = MODEL_BASE / "1"
MAX_MODEL_BYTES = 100 * 1024

SPECIES = ["setosa", "versicolor", "virginica"]
# Per-species mean and standard deviation of (sepal length, sepal width,
# petal length, petal width) in the Iris data set (Fisher, 1936).
SPECIES_MEAN = np.array([[5.006, 3.428, 1.462, 0.246],
                         [5.936, 2.770, 4.260, 1.326],
                         [6.588, 2.974, 5.552, 2.026]])
SPECIES_STD = np.array([[0.352, 0.379, 0.174, 0.105],
                        [0.516, 0.314, 0.470, 0.198],
                        [0.636, 0.322, 0.552, 0.275]])

# Rows 1, 51 and 101 of the Iris data set, one flower of each species.
SAMPLES = np.array([[5.1, 3.5, 1.4, 0.2],
                    [6.4, 3.2, 4.5, 1.5],
                    [6.3, 3.3, 6.0, 2.5]], dtype=np.float32)


def synthetic_iris(rng, per_class=100):
    """Measurements sampled per species from the published means/stds."""
    features = np.concatenate([
        rng.normal(SPECIES_MEAN[k], SPECIES_STD[k], (per_class, 4)) for k in range(len(SPECIES))
    ]).astype(np.float32)
    labels = np.repeat(np.arange(len(SPECIES)), per_class)
    return features, labels


def train(features, labels):
    """Normalization (adapted) -> Dense(8, relu) -> Dense(3) logits."""
    normalizer = keras.layers.Normalization()
    normalizer.adapt(features)
    hidden = keras.layers.Dense(8, activation="relu")
    output = keras.layers.Dense(len(SPECIES))
    net = keras.Sequential([keras.Input((4,)), normalizer, hidden, output])
    net.compile(optimizer=keras.optimizers.Adam(0.02),
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                metrics=["accuracy"])
    net.fit(features, labels, epochs=60, batch_size=32, shuffle=True, verbose=0)
    _, accuracy = net.evaluate(features, labels, verbose=0)
    print(f"training accuracy {accuracy:.3f}", file=sys.stderr)
    return normalizer, hidden, output


class IrisClassifier(tf.Module):
    """The trained weights as plain variables, with two serving signatures."""

    def __init__(self, normalizer, hidden, output):
        super().__init__(name=NAME)
        self.mean = tf.Variable(np.asarray(normalizer.mean).reshape(4), name="mean")
        self.stddev = tf.Variable(np.sqrt(np.asarray(normalizer.variance).reshape(4)), name="stddev")
        self.hidden_kernel = tf.Variable(hidden.kernel.numpy(), name="hidden_kernel")
        self.hidden_bias = tf.Variable(hidden.bias.numpy(), name="hidden_bias")
        self.output_kernel = tf.Variable(output.kernel.numpy(), name="output_kernel")
        self.output_bias = tf.Variable(output.bias.numpy(), name="output_bias")
        self.species = tf.constant(SPECIES)

    def _logits(self, features):
        normalized = (features - self.mean) / self.stddev
        hidden = tf.nn.relu(tf.matmul(normalized, self.hidden_kernel) + self.hidden_bias)
        return tf.matmul(hidden, self.output_kernel) + self.output_bias

    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="features")])
    def classify(self, features):
        logits = self._logits(features)
        class_id = tf.argmax(logits, axis=-1)
        return {
            "probabilities": tf.nn.softmax(logits),
            "class_id": class_id,
            "class_name": tf.gather(self.species, class_id),
        }

    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="features")])
    def logits(self, features):
        return {"logits": self._logits(features)}


def record_expected(export_dir):
    """Run the sample inputs through the reloaded SavedModel."""
    loaded = tf.saved_model.load(str(export_dir))
    cases = []
    for signature in ("serving_default", "logits"):
        for batch in (SAMPLES[:1], SAMPLES):
            inputs = {"features": tf.constant(batch)}
            outputs = loaded.signatures[signature](**inputs)
            cases.append({
                "signature": signature,
                "inputs": {k: encode_tensor(v) for k, v in inputs.items()},
                "outputs": {k: encode_tensor(v) for k, v in sorted(outputs.items())},
            })
    return {"model": NAME, "version": 1, "tags": ["serve"], "rtol": 1e-4, "atol": 1e-6,
            "stateful": False, "cases": cases}


def main():
    keras.utils.set_random_seed(0)
    features, labels = synthetic_iris(np.random.default_rng(0))
    module = IrisClassifier(*train(features, labels))
    shutil.rmtree(EXPORT_DIR, ignore_errors=True)
    tf.saved_model.save(module, str(EXPORT_DIR), signatures={
        "serving_default": module.classify,
        "logits": module.logits,
    })
    size = sum(f.stat().st_size for f in EXPORT_DIR.rglob("*") if f.is_file())
    if size > MAX_MODEL_BYTES:
        raise AssertionError(f"example model is {size} bytes (> {MAX_MODEL_BYTES})")
    expected = record_expected(EXPORT_DIR)
    (MODEL_BASE / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")
    for case in expected["cases"][1::2]:
        print(case["signature"], json.dumps(case["outputs"]), file=sys.stderr)
    print(f"wrote {EXPORT_DIR} ({size} bytes) and {MODEL_BASE / 'expected.json'}", file=sys.stderr)


if __name__ == "__main__":
    main()
