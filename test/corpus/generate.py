#!/usr/bin/env python3
"""Generate the TensorFlow ground-truth corpus for the tfmodel runtime tests.

Usage: generate.py --out DIR

Builds small, diverse SavedModels with real TensorFlow, loads each one back
with tf.saved_model.load and records what its signatures return for fixed
inputs (which is what TF Serving would return). Layout:

    DIR/manifest.json      {"tensorflow_version", "generator_sha256",
                            "models": [{"name", "description", "kind", "features"}]}
    DIR/<name>/model/      the SavedModel
    DIR/<name>/cases.json  {"model", "tags", "rtol", "atol", "stateful",
                            "cases": [{"signature", "inputs", "outputs"}]}

A tensor is {"dtype", "shape", "values"} with values flattened row-major;
int64/uint64 values are decimal strings, float NaN/Inf are "NaN",
"Infinity" and "-Infinity", strings are base64 of their raw bytes and bools
are JSON booleans. Inputs and outputs are keyed by the signature aliases.

Everything is written into a temporary directory next to DIR and renamed
into place at the end, so an interrupted run never leaves a half corpus.
Normally run through scripts/ensure-corpus.sh, which caches the result.
"""

import argparse
import base64
import hashlib
import json
import math
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Plain Eigen kernels rather than oneDNN ones: reproducible across CPUs.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tensorflow.experimental.numpy as tnp  # noqa: E402
from keras import layers  # noqa: E402

tf.get_logger().setLevel("ERROR")

MAX_MODEL_BYTES = 2 * 1024 * 1024
SEED = 0


# --------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------


@dataclass
class Case:
    """One call of a signature; outputs are recorded from the loaded model."""

    signature: str
    inputs: dict
    # The call must fail (a tf.debugging assertion): TensorFlow's error is recorded instead of outputs.
    expect_error: bool = False


@dataclass
class ModelSpec:
    name: str
    kind: str  # "keras" | "module" | "tf1"
    features: list
    build: Callable[[Path, np.random.Generator], list]
    stateful: bool
    rtol: float
    atol: float
    max_bytes: int

    @property
    def description(self) -> str:
        """First paragraph of the builder's docstring, on one line."""
        paragraph = (self.build.__doc__ or "").strip().split("\n\n")[0]
        return " ".join(paragraph.split())


MODELS: list = []


def corpus_model(name, kind, features, stateful=False, rtol=1e-4, atol=1e-6, max_bytes=MAX_MODEL_BYTES):
    """Register a builder: build(export_dir, rng) saves a SavedModel at
    export_dir and returns the Cases to record, in call order."""

    def register(build):
        MODELS.append(ModelSpec(name, kind, list(features), build, stateful, rtol, atol, max_bytes))
        return build

    return register


# --------------------------------------------------------------------------
# Helpers for builders
# --------------------------------------------------------------------------


def normal(rng, shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def batch_cases(signature, make_inputs, sizes=(1, 3)):
    """One case per batch size; make_inputs(n) returns the input dict."""
    return [Case(signature, make_inputs(n)) for n in sizes]


def keras_export(net, export_dir, make_inputs):
    """Export with model.export (ExportArchive): signatures `serve` and
    `serving_default`, both recorded at batch 1 and 3."""
    net.export(str(export_dir), verbose=False)
    return [
        Case(signature, make_inputs(n))
        for signature in ("serving_default", "serve")
        for n in (1, 3)
    ]


def randomize_batchnorm(net, rng):
    """Give every BatchNormalization layer non-trivial gamma/beta/statistics."""
    for layer in net.layers:
        if isinstance(layer, layers.BatchNormalization):
            n = layer.gamma.shape[0]
            layer.set_weights([
                rng.uniform(0.5, 1.5, n).astype(np.float32),
                normal(rng, n, 0.1),
                normal(rng, n, 0.1),
                rng.uniform(0.5, 1.5, n).astype(np.float32),
            ])


def strings(*values):
    """A 1-D DT_STRING input from Python str values (UTF-8 encoded)."""
    return np.array([v.encode("utf-8") for v in values], dtype=object)


def tf_example(features):
    """Serialize a tf.train.Example from {name: list of floats}."""
    feature = {
        key: tf.train.Feature(float_list=tf.train.FloatList(value=values))
        for key, values in features.items()
    }
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


# --------------------------------------------------------------------------
# Keras models
# --------------------------------------------------------------------------


@corpus_model("keras_mlp", "keras", ["sequential", "dense", "relu", "softmax", "model.export"])
def build_keras_mlp(export_dir, rng):
    """Keras Sequential MLP: Dense/ReLU layers and a softmax head, exported
    with model.export (signatures serve and serving_default)."""
    mlp = keras.Sequential([
        keras.Input((16,), name="features"),
        layers.Dense(32, activation="relu"),
        layers.Dense(16, activation="relu"),
        layers.Dense(4, activation="softmax"),
    ], name="mlp")
    return keras_export(mlp, export_dir, lambda n: {"features": normal(rng, (n, 16))})


@corpus_model("keras_wide_mlp", "keras", ["dense", "large_weights"], max_bytes=16 * 1024 * 1024)
def build_keras_wide_mlp(export_dir, rng):
    """A wide MLP with about 5 MB of float32 weights (256 -> 1024 -> 1024 -> 10): the one corpus
    model big enough for the benchmark to measure memory per byte of weights."""
    mlp = keras.Sequential([
        keras.Input((256,), name="features"),
        layers.Dense(1024, activation="relu"),
        layers.Dense(1024, activation="relu"),
        layers.Dense(10),
    ], name="wide_mlp")
    return keras_export(mlp, export_dir, lambda n: {"features": normal(rng, (n, 256))})


@corpus_model("keras_cnn", "keras",
       ["conv2d", "maxpool2d", "batchnorm", "dropout", "flatten", "dense", "softmax", "argmax"],
       atol=1e-5)
def build_keras_cnn(export_dir, rng):
    """Keras CNN on 28x28x1 images: Conv2D, BatchNormalization, MaxPool2D,
    Dropout, Flatten, Dense softmax, plus an argmax class id; saved with
    tf.saved_model.save and an explicit serving_default signature."""
    cnn = keras.Sequential([
        keras.Input((28, 28, 1), name="image"),
        layers.Conv2D(8, 3, activation="relu"),
        layers.BatchNormalization(),
        layers.MaxPool2D(2),
        layers.Conv2D(16, 3, padding="same", activation="relu"),
        layers.MaxPool2D(2),
        layers.Dropout(0.25),
        layers.Flatten(),
        layers.Dense(10, activation="softmax"),
    ], name="cnn")
    randomize_batchnorm(cnn, rng)

    @tf.function(input_signature=[tf.TensorSpec([None, 28, 28, 1], tf.float32, name="image")])
    def serve(image):
        probabilities = cnn(image, training=False)
        return {"probabilities": probabilities, "class_id": tf.argmax(probabilities, axis=-1)}

    tf.saved_model.save(cnn, str(export_dir), signatures={"serving_default": serve})
    return batch_cases("serving_default", lambda n: {"image": rng.random((n, 28, 28, 1), dtype=np.float32)})


@corpus_model("keras_separable", "keras",
       ["depthwise_conv2d", "separable_conv2d", "batchnorm", "relu6", "global_avg_pool2d", "model.export"],
       atol=1e-5)
def build_keras_separable(export_dir, rng):
    """Depthwise-separable block on 32x32x3 images: strided DepthwiseConv2D
    (depth multiplier 2), BatchNormalization, ReLU6, SeparableConv2D,
    GlobalAveragePooling2D, Dense; exported with model.export."""
    net = keras.Sequential([
        keras.Input((32, 32, 3), name="image"),
        layers.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=2),
        layers.BatchNormalization(),
        layers.ReLU(max_value=6.0),
        layers.SeparableConv2D(8, 3, activation="relu"),
        layers.GlobalAveragePooling2D(),
        layers.Dense(5),
    ], name="separable")
    randomize_batchnorm(net, rng)
    return keras_export(net, export_dir, lambda n: {"image": rng.random((n, 32, 32, 3), dtype=np.float32)})


@corpus_model("keras_lstm", "keras", ["lstm", "return_state", "dense"], atol=1e-5)
def build_keras_lstm(export_dir, rng):
    """Keras LSTM over 10 steps of 6 features, returning its final hidden
    and cell states alongside Dense logits; explicit serving_default."""
    sequence = keras.Input((10, 6), name="sequence")
    _, hidden, cell = layers.LSTM(8, return_state=True)(sequence)
    logits = layers.Dense(3)(hidden)
    net = keras.Model(sequence, {"logits": logits, "hidden": hidden, "cell": cell})

    @tf.function(input_signature=[tf.TensorSpec([None, 10, 6], tf.float32, name="sequence")])
    def serve(sequence):
        return net(sequence, training=False)

    tf.saved_model.save(net, str(export_dir), signatures={"serving_default": serve})
    return batch_cases("serving_default", lambda n: {"sequence": normal(rng, (n, 10, 6))})


@corpus_model("keras_gru", "keras", ["gru", "return_sequences", "dense", "model.export"], atol=1e-5)
def build_keras_gru(export_dir, rng):
    """Two stacked Keras GRU layers (reset_after, the Keras 3 default) over
    12 steps of 4 features, then Dense; exported with model.export."""
    net = keras.Sequential([
        keras.Input((12, 4), name="sequence"),
        layers.GRU(8, return_sequences=True),
        layers.GRU(6),
        layers.Dense(2),
    ], name="gru")
    return keras_export(net, export_dir, lambda n: {"sequence": normal(rng, (n, 12, 4))})


@corpus_model("keras_bidirectional", "keras", ["bidirectional", "lstm", "gru", "softmax"], atol=1e-5)
def build_keras_bidirectional(export_dir, rng):
    """Bidirectional LSTM (concat merge, full sequences) feeding a
    Bidirectional GRU (sum merge), then a softmax head; explicit signature."""
    net = keras.Sequential([
        keras.Input((8, 5), name="sequence"),
        layers.Bidirectional(layers.LSTM(6, return_sequences=True)),
        layers.Bidirectional(layers.GRU(4), merge_mode="sum"),
        layers.Dense(2, activation="softmax"),
    ], name="bidirectional")

    @tf.function(input_signature=[tf.TensorSpec([None, 8, 5], tf.float32, name="sequence")])
    def serve(sequence):
        return {"probabilities": net(sequence, training=False)}

    tf.saved_model.save(net, str(export_dir), signatures={"serving_default": serve})
    return batch_cases("serving_default", lambda n: {"sequence": normal(rng, (n, 8, 5))})


@corpus_model("keras_embedding", "keras",
       ["embedding", "int32_input", "global_avg_pool1d", "sigmoid", "model.export"])
def build_keras_embedding(export_dir, rng):
    """Embedding lookup of int32 token ids, GlobalAveragePooling1D and a
    sigmoid Dense head; exported with model.export."""
    net = keras.Sequential([
        keras.Input((12,), dtype="int32", name="token_ids"),
        layers.Embedding(50, 8),
        layers.GlobalAveragePooling1D(),
        layers.Dense(1, activation="sigmoid"),
    ], name="embedding")
    return keras_export(net, export_dir,
                        lambda n: {"token_ids": rng.integers(0, 50, (n, 12), dtype=np.int32)})


@corpus_model("keras_transformer", "keras",
       ["multi_head_attention", "causal_mask", "layer_norm", "gelu", "residual_add", "global_avg_pool1d"],
       rtol=1e-3, atol=1e-5)
def build_keras_transformer(export_dir, rng):
    """Tiny transformer encoder block: causal self MultiHeadAttention (2
    heads), residual Add + LayerNormalization, GELU feed-forward, a second
    residual + LayerNormalization, pooled Dense logits; outputs the logits
    and the encoded sequence."""
    embeddings = keras.Input((8, 16), name="embeddings")
    attended = layers.MultiHeadAttention(num_heads=2, key_dim=8)(embeddings, embeddings, use_causal_mask=True)
    hidden = layers.LayerNormalization(epsilon=1e-6)(layers.Add()([embeddings, attended]))
    feed_forward = layers.Dense(16)(layers.Dense(32, activation="gelu")(hidden))
    encoded = layers.LayerNormalization(epsilon=1e-6)(layers.Add()([hidden, feed_forward]))
    logits = layers.Dense(3)(layers.GlobalAveragePooling1D()(encoded))
    net = keras.Model(embeddings, {"logits": logits, "encoded": encoded})

    @tf.function(input_signature=[tf.TensorSpec([None, 8, 16], tf.float32, name="embeddings")])
    def serve(embeddings):
        return net(embeddings, training=False)

    tf.saved_model.save(net, str(export_dir), signatures={"serving_default": serve})
    return batch_cases("serving_default", lambda n: {"embeddings": normal(rng, (n, 8, 16))})


@corpus_model("keras_two_in_two_out", "keras", ["functional", "multi_input", "multi_output", "concatenate", "model.export"])
def build_keras_two_in_two_out(export_dir, rng):
    """Functional Keras model with two named inputs (dense_features,
    context) concatenated into a shared trunk and two named outputs (score,
    class_logits); exported with model.export."""
    dense_features = keras.Input((8,), name="dense_features")
    context = keras.Input((4,), name="context")
    trunk = layers.Dense(12, activation="relu")(layers.Concatenate()([dense_features, context]))
    net = keras.Model(
        inputs={"dense_features": dense_features, "context": context},
        outputs={
            "score": layers.Dense(1, activation="sigmoid")(trunk),
            "class_logits": layers.Dense(3)(trunk),
        },
    )
    return keras_export(net, export_dir, lambda n: {
        "dense_features": normal(rng, (n, 8)),
        "context": normal(rng, (n, 4)),
    })


@corpus_model("keras_normalization", "keras", ["normalization_adapted", "dense"])
def build_keras_normalization(export_dir, rng):
    """Keras Normalization preprocessing layer adapted on skewed data (mean
    and variance stored as weights) in front of a Dense layer; outputs both
    the normalized features and the prediction."""
    loc = np.array([10.0, -5.0, 0.5, 100.0, 3.0])
    scale = np.array([2.0, 0.5, 0.1, 20.0, 1.0])
    normalizer = layers.Normalization(axis=-1)
    normalizer.adapt(rng.normal(loc, scale, (256, 5)).astype(np.float32))
    raw = keras.Input((5,), name="raw_features")
    normalized = normalizer(raw)
    net = keras.Model(raw, {"normalized": normalized, "prediction": layers.Dense(2)(normalized)})

    @tf.function(input_signature=[tf.TensorSpec([None, 5], tf.float32, name="raw_features")])
    def serve(raw_features):
        return net(raw_features, training=False)

    tf.saved_model.save(net, str(export_dir), signatures={"serving_default": serve})
    return batch_cases("serving_default",
                       lambda n: {"raw_features": rng.normal(loc, scale, (n, 5)).astype(np.float32)})


@corpus_model("keras_conv1d", "keras",
       ["conv1d", "causal_padding", "dilation", "avg_pool1d", "upsampling1d", "global_max_pool1d", "model.export"],
       atol=1e-5)
def build_keras_conv1d(export_dir, rng):
    """1-D signal model: dilated causal Conv1D, AveragePooling1D, same-padded
    Conv1D, UpSampling1D, GlobalMaxPooling1D, Dense; model.export."""
    net = keras.Sequential([
        keras.Input((16, 3), name="signal"),
        layers.Conv1D(8, 3, padding="causal", dilation_rate=2, activation="relu"),
        layers.AveragePooling1D(2),
        layers.Conv1D(8, 3, padding="same"),
        layers.UpSampling1D(2),
        layers.GlobalMaxPooling1D(),
        layers.Dense(2),
    ], name="conv1d")
    return keras_export(net, export_dir, lambda n: {"signal": normal(rng, (n, 16, 3))})


@corpus_model("keras_conv_transpose", "keras",
       ["conv2d_transpose", "upsampling2d_bilinear", "avg_pool2d", "resizing", "conv2d_1x1", "sigmoid"],
       atol=1e-5)
def build_keras_conv_transpose(export_dir, rng):
    """Decoder-style model: strided Conv2DTranspose, bilinear UpSampling2D,
    AveragePooling2D, a Resizing layer to 12x12 and a 1x1 sigmoid Conv2D."""
    net = keras.Sequential([
        keras.Input((8, 8, 4), name="latent"),
        layers.Conv2DTranspose(6, 3, strides=2, padding="same", activation="relu"),
        layers.UpSampling2D(2, interpolation="bilinear"),
        layers.AveragePooling2D(2),
        layers.Resizing(12, 12),
        layers.Conv2D(1, 1, activation="sigmoid"),
    ], name="conv_transpose")

    @tf.function(input_signature=[tf.TensorSpec([None, 8, 8, 4], tf.float32, name="latent")])
    def serve(latent):
        return {"image": net(latent, training=False)}

    tf.saved_model.save(net, str(export_dir), signatures={"serving_default": serve})
    return batch_cases("serving_default", lambda n: {"latent": normal(rng, (n, 8, 8, 4))})


@corpus_model("keras_resnet_block", "keras",
       ["residual_add", "zero_padding2d", "conv2d", "batchnorm", "global_max_pool2d", "concatenate", "model.export"],
       atol=1e-5)
def build_keras_resnet_block(export_dir, rng):
    """Residual block: ZeroPadding2D, Conv2D without bias, BatchNormalization,
    ReLU, two-conv branch merged by Add, strided 1x1 Conv2D, concatenated
    global average and max pooling, softmax; exported with model.export."""
    image = keras.Input((16, 16, 3), name="image")
    x = layers.ZeroPadding2D(1)(image)
    x = layers.ReLU()(layers.BatchNormalization()(layers.Conv2D(8, 3, use_bias=False)(x)))
    branch = layers.ReLU()(layers.BatchNormalization()(layers.Conv2D(8, 3, padding="same")(x)))
    branch = layers.BatchNormalization()(layers.Conv2D(8, 3, padding="same")(branch))
    x = layers.ReLU()(layers.Add()([x, branch]))
    x = layers.Conv2D(16, 1, strides=2)(x)
    pooled = layers.Concatenate()([layers.GlobalAveragePooling2D()(x), layers.GlobalMaxPooling2D()(x)])
    net = keras.Model(image, layers.Dense(4, activation="softmax")(pooled))
    randomize_batchnorm(net, rng)
    return keras_export(net, export_dir, lambda n: {"image": rng.random((n, 16, 16, 3), dtype=np.float32)})


@corpus_model("keras_uint8_image", "keras", ["uint8_input", "cast", "rescaling", "conv2d_strided", "softmax"])
def build_keras_uint8_image(export_dir, rng):
    """Image classifier fed raw uint8 pixels: the serving function casts to
    float32, a Rescaling(1/255) layer scales, then strided Conv2D, global
    pooling and softmax."""
    net = keras.Sequential([
        keras.Input((16, 16, 3), name="image"),
        layers.Rescaling(1.0 / 255.0),
        layers.Conv2D(4, 3, strides=2, activation="relu"),
        layers.GlobalAveragePooling2D(),
        layers.Dense(3, activation="softmax"),
    ], name="uint8_image")

    @tf.function(input_signature=[tf.TensorSpec([None, 16, 16, 3], tf.uint8, name="pixels")])
    def serve(pixels):
        return {"probabilities": net(tf.cast(pixels, tf.float32), training=False)}

    tf.saved_model.save(net, str(export_dir), signatures={"serving_default": serve})
    return batch_cases("serving_default",
                       lambda n: {"pixels": rng.integers(0, 256, (n, 16, 16, 3), dtype=np.uint8)})


@corpus_model("keras_mobilenet_v3", "keras",
       ["keras.applications", "mobilenet_v3_small", "hard_swish", "squeeze_excite", "dynamic_image_size", "model.export"],
       atol=1e-5, max_bytes=12 * 1024 * 1024)
def build_keras_mobilenet_v3(export_dir, rng):
    """keras.applications.MobileNetV3Small (alpha 0.75, 10 classes, random
    weights, Rescaling preprocessing) on images of any size, [None, None,
    None, 3]; exported with model.export. Issue 7: a 1x1 image must not
    break the model for the 96x96 images after it."""
    net = keras.applications.MobileNetV3Small(
        input_tensor=keras.Input((None, None, 3), name="image"), alpha=0.75, weights=None, classes=10,
        include_preprocessing=True)
    randomize_batchnorm(net, rng)
    cases = keras_export(net, export_dir, lambda n: {"image": rng.random((n, 96, 96, 3), dtype=np.float32) * 255})
    return cases + [Case("serving_default", {"image": rng.random((1, 64, 80, 3), dtype=np.float32) * 255})]


@corpus_model("keras_text_vectorization", "keras",
       ["text_vectorization", "string_input", "standardize", "whitespace_split", "static_hash_table",
        "output_sequence_length", "embedding", "empty_string", "model.export"])
def build_keras_text_vectorization(export_dir, rng):
    """Keras TextVectorization (lower-case and strip punctuation, split on
    whitespace, int tokens padded to 6) on [None, 1] strings, then
    Embedding, GlobalAveragePooling1D and a softmax Dense head; exported
    with model.export. Cases include the empty string and unknown words."""
    vectorize = layers.TextVectorization(max_tokens=12, output_mode="int", output_sequence_length=6)
    vectorize.adapt(["the cat sat on the mat", "a dog ate my homework", "the quick brown fox", "the dog"])
    text = keras.Input(shape=(1,), dtype="string", name="text")
    pooled = layers.GlobalAveragePooling1D()(layers.Embedding(12, 4)(vectorize(text)))
    net = keras.Model(text, layers.Dense(3, activation="softmax")(pooled), name="text_vectorization")
    rows = [["The cat!"], [""], ["zzz unknown words"], ["a dog ate the quick brown fox on my mat"]]
    net.export(str(export_dir), verbose=False)
    return [
        Case(signature, {"text": strings(*(r[0] for r in batch)).reshape(-1, 1)})
        for signature in ("serving_default", "serve")
        for batch in ([[""]], rows[:1], rows)
    ]


@corpus_model("keras_activations", "keras",
       ["elu", "selu", "gelu", "silu", "softplus", "softsign", "tanh", "sigmoid", "hard_sigmoid",
        "hard_silu", "leaky_relu", "relu6", "mish", "log_softmax", "prelu", "softmax"])
def build_keras_activations(export_dir, rng):
    """One output per Keras activation applied to the same input (elu, selu,
    exact and tanh-approximated gelu, silu, softplus, softsign, tanh, sigmoid,
    hard_sigmoid, hard_silu, leaky_relu, relu6, mish, log_softmax, PReLU with
    learned slopes, Softmax), to pin down each formula."""
    acts = keras.activations
    functions = {
        "elu": acts.elu,
        "selu": acts.selu,
        "gelu": acts.gelu,
        "gelu_tanh": lambda t: acts.gelu(t, approximate=True),
        "silu": acts.silu,
        "softplus": acts.softplus,
        "softsign": acts.softsign,
        "tanh": acts.tanh,
        "sigmoid": acts.sigmoid,
        "hard_sigmoid": acts.hard_sigmoid,
        "hard_silu": acts.hard_silu,
        "leaky_relu": lambda t: acts.leaky_relu(t, negative_slope=0.2),
        "relu6": acts.relu6,
        "mish": acts.mish,
        "log_softmax": acts.log_softmax,
    }
    x = keras.Input((8,), name="x")
    outputs = {name: layers.Activation(fn, name=name)(x) for name, fn in functions.items()}
    prelu = layers.PReLU(name="prelu")
    outputs["prelu"] = prelu(x)
    outputs["softmax"] = layers.Softmax(name="softmax")(x)
    net = keras.Model(x, outputs)
    prelu.set_weights([rng.uniform(0.05, 0.5, (8,)).astype(np.float32)])

    @tf.function(input_signature=[tf.TensorSpec([None, 8], tf.float32, name="x")])
    def serve(x):
        return net(x, training=False)

    tf.saved_model.save(net, str(export_dir), signatures={"serving_default": serve})
    grid = np.array([[-6.0, -3.0, -1.0, -0.25, 0.0, 0.25, 1.0, 6.0]], dtype=np.float32)
    return [
        Case("serving_default", {"x": grid}),
        Case("serving_default", {"x": normal(rng, (3, 8), 3.0)}),
    ]


# --------------------------------------------------------------------------
# tf.Module / tf.function models
# --------------------------------------------------------------------------


class DtypeOps(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([None], tf.int64, name="a"),
                                  tf.TensorSpec([None], tf.int64, name="b")])
    def int64_math(self, a, b):
        return {
            "sum": a + b,
            "difference": a - b,
            "product": a * b,
            "floordiv": tf.math.floordiv(a, b),
            "floormod": tf.math.floormod(a, b),
            "maximum": tf.maximum(a, b),
        }

    @tf.function(input_signature=[tf.TensorSpec([None], tf.float64, name="x")])
    def float64_math(self, x):
        return {
            "plus_tiny": x + 1e-12,
            "sqrt_abs": tf.sqrt(tf.abs(x)),
            "exp": tf.exp(x),
            "log1p_abs": tf.math.log1p(tf.abs(x)),
            "total": tf.reduce_sum(x),
            "as_float32": tf.cast(x, tf.float32),
        }

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")])
    def string_ops(self, text):
        return {
            "byte_length": tf.strings.length(text),
            "char_length": tf.strings.length(text, unit="UTF8_CHAR"),
            "upper": tf.strings.upper(text),
            "prefix": tf.strings.substr(text, 0, 3),
            "exclaimed": tf.strings.join([text, "!"]),
            "joined": tf.strings.reduce_join(text, separator="|"),
            "vowels_masked": tf.strings.regex_replace(text, "[aeiou]", "_"),
        }

    @tf.function(input_signature=[tf.TensorSpec([None], tf.bool, name="a"),
                                  tf.TensorSpec([None], tf.bool, name="b"),
                                  tf.TensorSpec([None], tf.float32, name="x")])
    def bool_logic(self, a, b, x):
        return {
            "and": tf.logical_and(a, b),
            "or": tf.logical_or(a, b),
            "xor": tf.math.logical_xor(a, b),
            "not_a": tf.logical_not(a),
            "x_positive": x > 0.0,
            "selected": tf.where(a, x, -x),
            "any_a": tf.reduce_any(a),
            "all_b": tf.reduce_all(b),
        }


@corpus_model("dtype_signatures", "module",
       ["int64", "float64", "string", "bool", "strings_length", "strings_upper", "strings_substr",
        "strings_join", "reduce_join", "regex_replace", "logical_ops", "nan_inf"])
def build_dtype_signatures(export_dir, rng):
    """tf.Module with one signature per non-float32 dtype: int64 arithmetic
    (values beyond 2^31 and 2^53 in one case, int32-range in another),
    float64 math (precision beyond float32, exp overflow to Infinity, NaN
    input), tf.strings ops (length in bytes and UTF-8 chars, upper, substr,
    join, reduce_join, regex_replace) and boolean logic."""
    module = DtypeOps()
    tf.saved_model.save(module, str(export_dir), signatures={
        "int64_math": module.int64_math,
        "float64_math": module.float64_math,
        "string_ops": module.string_ops,
        "bool_logic": module.bool_logic,
    })
    return [
        Case("int64_math", {
            "a": np.array([3_000_000_000, -5_000_000_000, 2**40 + 7, 2**53 + 1], dtype=np.int64),
            "b": np.array([7, 3, -(2**20), 2], dtype=np.int64),
        }),
        Case("int64_math", {"a": np.array([42], dtype=np.int64), "b": np.array([-5], dtype=np.int64)}),
        Case("int64_math", {"a": np.array([1, -7, 100], dtype=np.int64), "b": np.array([3, 2, -9], dtype=np.int64)}),
        Case("float64_math", {"x": np.array([0.1], dtype=np.float64)}),
        Case("float64_math", {"x": np.array([1.0 / 3.0, 1.0000000001, -700.0, 1e200, float("nan")], dtype=np.float64)}),
        Case("string_ops", {"text": strings("hello")}),
        Case("string_ops", {"text": strings("TensorFlow serving", "", "héllo wörld", "a")}),
        Case("bool_logic", {
            "a": np.array([True]), "b": np.array([True]), "x": np.array([-1.5], dtype=np.float32),
        }),
        Case("bool_logic", {
            "a": np.array([True, True, False, False]),
            "b": np.array([True, False, True, False]),
            "x": np.array([2.0, -0.5, 0.0, 3.25], dtype=np.float32),
        }),
    ]


VOCABULARY = ["[PAD]", "the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "tensor", "flow"]


class VocabLookup(tf.Module):
    def __init__(self, vocab_path):
        super().__init__()
        self.vocab = tf.saved_model.Asset(vocab_path)
        initializer = tf.lookup.TextFileInitializer(
            self.vocab,
            key_dtype=tf.string, key_index=tf.lookup.TextFileIndex.WHOLE_LINE,
            value_dtype=tf.int64, value_index=tf.lookup.TextFileIndex.LINE_NUMBER)
        self.table = tf.lookup.StaticHashTable(initializer, default_value=-1)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="tokens")])
    def lookup(self, tokens):
        return {"ids": self.table.lookup(tokens)}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="sentences")])
    def tokenize(self, sentences):
        words = tf.strings.split(tf.strings.lower(sentences))
        ids = tf.ragged.map_flat_values(self.table.lookup, words)
        return {"ids": ids.to_tensor(default_value=0), "lengths": ids.row_lengths()}


@corpus_model("vocab_lookup", "module",
       ["static_hash_table", "text_file_initializer", "asset", "string_to_int64", "oov_default",
        "strings_split", "ragged_to_tensor"])
def build_vocab_lookup(export_dir, rng):
    """tf.lookup.StaticHashTable initialised by a TextFileInitializer from a
    vocabulary file shipped as a SavedModel asset (assets/vocab.txt): string
    tokens to int64 ids with -1 for out-of-vocabulary; a second signature
    lower-cases, splits sentences and pads the ragged ids with 0."""
    with tempfile.TemporaryDirectory() as scratch:
        vocab_path = os.path.join(scratch, "vocab.txt")
        with open(vocab_path, "w", encoding="utf-8") as f:
            f.write("\n".join(VOCABULARY) + "\n")
        module = VocabLookup(vocab_path)
        tf.saved_model.save(module, str(export_dir), signatures={
            "serving_default": module.lookup,
            "tokenize": module.tokenize,
        })
    return [
        Case("serving_default", {"tokens": strings("fox")}),
        Case("serving_default", {"tokens": strings("the", "lazy", "cat", "flow", "", "Fox")}),
        Case("tokenize", {"sentences": strings("The quick brown fox")}),
        Case("tokenize", {"sentences": strings("the lazy dog jumps", "tensor flow", "a quick unknown fox jumps over")}),
    ]


class Loops(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, name="x")])
    def halve_until_small(self, x):
        steps, result = tf.while_loop(
            lambda steps, v: tf.reduce_any(v > 1.0),
            lambda steps, v: (steps + 1, tf.where(v > 1.0, v / 2.0, v)),
            [tf.constant(0), x])
        return {"steps": steps, "result": result}

    @tf.function(input_signature=[tf.TensorSpec([], tf.int32, name="n")])
    def fibonacci(self, n):
        _, value, _ = tf.while_loop(
            lambda i, a, b: i < n,
            lambda i, a, b: (i + 1, b, a + b),
            [tf.constant(0), tf.constant(0, tf.int64), tf.constant(1, tf.int64)])
        return {"value": value}

    @tf.function(input_signature=[tf.TensorSpec([], tf.int32, name="n")])
    def harmonic(self, n):
        def body(i, total, sums):
            total = total + 1.0 / tf.cast(i + 1, tf.float32)
            return i + 1, total, sums.write(i, total)

        sums = tf.TensorArray(tf.float32, size=0, dynamic_size=True, element_shape=[])
        _, _, sums = tf.while_loop(lambda i, total, sums: i < n, body, [tf.constant(0), tf.constant(0.0), sums])
        return {"partial_sums": sums.stack()}


@corpus_model("while_loop", "module", ["while_loop", "data_dependent_trip_count", "tensor_array", "int64", "scalar_input"])
def build_while_loop(export_dir, rng):
    """tf.function bodies built on tf.while_loop with data-dependent trip
    counts: halve values until all are <= 1 (loop count depends on the
    data), int64 Fibonacci of n (fib(90) > 2^53), and a TensorArray of
    harmonic partial sums of length n (including n = 0, an empty output)."""
    module = Loops()
    tf.saved_model.save(module, str(export_dir), signatures={
        "serving_default": module.halve_until_small,
        "fibonacci": module.fibonacci,
        "harmonic": module.harmonic,
    })
    return [
        Case("serving_default", {"x": np.array([37.5], dtype=np.float32)}),
        Case("serving_default", {"x": np.array([0.5, 3.0, 1000.0, -2.0], dtype=np.float32)}),
        Case("fibonacci", {"n": np.array(10, dtype=np.int32)}),
        Case("fibonacci", {"n": np.array(90, dtype=np.int32)}),
        Case("harmonic", {"n": np.array(6, dtype=np.int32)}),
        Case("harmonic", {"n": np.array(0, dtype=np.int32)}),
    ]


class Branching(tf.Module):
    def __init__(self):
        super().__init__()
        self.gain = tf.Variable(2.5, name="gain")

    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="x")])
    def branch(self, x):
        positive = tf.reduce_sum(x) > 0.0
        y = tf.cond(positive, lambda: x * 2.0 + 1.0, lambda: tf.abs(x) - 1.0)
        return {"y": y, "positive": positive}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, name="x"),
                                  tf.TensorSpec([], tf.bool, name="use_gain")])
    def gated(self, x, use_gain):
        # Reading a variable inside a branch makes it a stateful If op.
        return {"y": tf.cond(use_gain, lambda: x * self.gain, lambda: x - 1.0)}

    @tf.function(input_signature=[tf.TensorSpec([], tf.int32, name="index"),
                                  tf.TensorSpec([None], tf.float32, name="x")])
    def switch(self, index, x):
        return {"y": tf.switch_case(index, [lambda: x + 1.0, lambda: x * x, lambda: -x])}


@corpus_model("cond_branching", "module", ["cond", "stateless_if", "if", "switch_case", "case", "bool_input", "bool_output"])
def build_cond_branching(export_dir, rng):
    """tf.cond on a data-dependent predicate (StatelessIf; both branches
    taken across the cases), tf.cond on a bool input whose branch reads a
    variable (stateful If) and tf.switch_case on an int32 index (Case op,
    including an out-of-range index that falls to the last branch)."""
    module = Branching()
    tf.saved_model.save(module, str(export_dir), signatures={
        "serving_default": module.branch,
        "gated": module.gated,
        "switch": module.switch,
    })
    return [
        Case("serving_default", {"x": np.array([[1.0, 2.0, -0.5, 0.25]], dtype=np.float32)}),
        Case("serving_default", {"x": np.array([[-1.0, 2.0, -3.0, 0.5], [-4.0, 0.0, 1.5, -2.0]], dtype=np.float32)}),
        Case("serving_default", {"x": normal(rng, (3, 4)) + 1.0}),
        Case("gated", {"x": np.array([1.5], dtype=np.float32), "use_gain": np.array(True)}),
        Case("gated", {"x": np.array([1.5, -2.0, 0.25], dtype=np.float32), "use_gain": np.array(False)}),
        Case("switch", {"index": np.array(0, dtype=np.int32), "x": np.array([1.5], dtype=np.float32)}),
        Case("switch", {"index": np.array(1, dtype=np.int32), "x": np.array([1.5, -2.0, 3.0], dtype=np.float32)}),
        Case("switch", {"index": np.array(2, dtype=np.int32), "x": np.array([1.5, -2.0], dtype=np.float32)}),
        Case("switch", {"index": np.array(7, dtype=np.int32), "x": np.array([4.0, 0.0], dtype=np.float32)}),
    ]


class MultiSignature(tf.Module):
    def __init__(self, rng):
        super().__init__()
        self.scale = tf.Variable(rng.uniform(0.5, 2.0, 4).astype(np.float32), name="scale")
        self.bias = tf.Variable(normal(rng, 4), name="bias")

    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="x")])
    def affine(self, x):
        return {"y": x * self.scale + self.bias}

    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="x")])
    def normalize(self, x):
        return {"unit": tf.math.l2_normalize(x, axis=-1)}

    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="x")])
    def stats(self, x):
        return {
            "mean": tf.reduce_mean(x, axis=-1),
            "std": tf.math.reduce_std(x, axis=-1),
            "min": tf.reduce_min(x, axis=-1),
            "max": tf.reduce_max(x, axis=-1),
        }

    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="x")])
    def sort(self, x):
        return {
            "sorted": tf.sort(x, direction="DESCENDING"),
            "order": tf.argsort(x, direction="DESCENDING"),
        }


@corpus_model("multi_signature", "module", ["multiple_signatures", "variables", "l2_normalize", "reductions", "sort", "argsort"])
def build_multi_signature(export_dir, rng):
    """tf.Module exported with four signatures sharing variables:
    serving_default (affine), normalize (l2), stats (mean/std/min/max
    reductions) and sort (descending sort and argsort)."""
    module = MultiSignature(rng)
    tf.saved_model.save(module, str(export_dir), signatures={
        "serving_default": module.affine,
        "normalize": module.normalize,
        "stats": module.stats,
        "sort": module.sort,
    })
    return [
        case
        for signature in ("serving_default", "normalize", "stats", "sort")
        for case in batch_cases(signature, lambda n: {"x": normal(rng, (n, 4))})
    ]


class Counter(tf.Module):
    def __init__(self):
        super().__init__()
        self.count = tf.Variable(tf.constant(0, tf.int64), name="count")

    @tf.function(input_signature=[])
    def get(self):
        return {"count": self.count.read_value()}

    @tf.function(input_signature=[tf.TensorSpec([], tf.int64, name="delta")])
    def increment(self, delta):
        return {"count": self.count.assign_add(delta)}

    @tf.function(input_signature=[])
    def reset(self):
        return {"count": self.count.assign(tf.constant(0, tf.int64))}


@corpus_model("stateful_counter", "module", ["stateful", "variable", "assign_add", "assign", "no_inputs", "int64"],
       stateful=True)
def build_stateful_counter(export_dir, rng):
    """Stateful tf.Module: an int64 tf.Variable counter with get (no
    inputs), increment (assign_add of delta) and reset (assign 0); the cases
    are a call sequence that must be replayed in order on one loaded model,
    including a step beyond 2^31."""
    module = Counter()
    tf.saved_model.save(module, str(export_dir), signatures={
        "get": module.get,
        "increment": module.increment,
        "reset": module.reset,
    })

    def increment(delta):
        return Case("increment", {"delta": np.array(delta, dtype=np.int64)})

    return [
        Case("get", {}),
        increment(1),
        increment(41),
        Case("get", {}),
        Case("reset", {}),
        Case("get", {}),
        increment(2**40),
        increment(-3),
        Case("get", {}),
        Case("reset", {}),
        Case("get", {}),
    ]


class Einsum(tf.Module):
    def __init__(self, rng):
        super().__init__()
        self.w = tf.Variable(normal(rng, (4, 2)), name="w")

    @tf.function(input_signature=[tf.TensorSpec([None, 3, 4], tf.float32, name="a"),
                                  tf.TensorSpec([None, 4, 5], tf.float32, name="b")])
    def __call__(self, a, b):
        return {
            "batch_matmul": tf.einsum("bij,bjk->bik", a, b),
            "transpose": tf.einsum("bij->bji", a),
            "row_sums": tf.einsum("bij->bi", a),
            "weighted": tf.einsum("bij,jk->bik", a, self.w),
            "outer": tf.einsum("bi,bj->bij", a[:, 0, :], b[:, 0, :]),
            "frobenius": tf.einsum("bij,bij->b", a, a),
        }


@corpus_model("einsum", "module", ["einsum", "batch_matmul", "transpose", "reduce_sum", "outer_product"])
def build_einsum(export_dir, rng):
    """tf.einsum equations: batched matmul, transpose, reduction, product
    with a variable, outer product and a full contraction."""
    module = Einsum(rng)
    tf.saved_model.save(module, str(export_dir), signatures={"serving_default": module.__call__})
    return batch_cases("serving_default", lambda n: {"a": normal(rng, (n, 3, 4)), "b": normal(rng, (n, 4, 5))})


class BatchMatmul(tf.Module):
    def __init__(self, rng):
        super().__init__()
        self.w = tf.Variable(normal(rng, (6, 5)), name="w")

    @tf.function(input_signature=[tf.TensorSpec([None, 4, 6], tf.float32, name="x"),
                                  tf.TensorSpec([None, 6, 3], tf.float32, name="y")])
    def __call__(self, x, y):
        return {
            "xy": tf.matmul(x, y),
            "projected": tf.matmul(x, self.w),
            "gram": tf.matmul(x, x, transpose_b=True),
            "covariance": tf.linalg.matmul(x, x, adjoint_a=True),
        }


@corpus_model("batch_matmul", "module", ["batch_matmul", "broadcast_matmul", "transpose_b", "adjoint_a"])
def build_batch_matmul(export_dir, rng):
    """BatchMatMulV2: batch x batch, batch x broadcast 2-D variable, and
    the transpose_b / adjoint_a variants."""
    module = BatchMatmul(rng)
    tf.saved_model.save(module, str(export_dir), signatures={"serving_default": module.__call__})
    return batch_cases("serving_default", lambda n: {"x": normal(rng, (n, 4, 6)), "y": normal(rng, (n, 6, 3))})


class GatherTopK(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([None, 10], tf.float32, name="scores"),
                                  tf.TensorSpec([None], tf.int32, name="positions")])
    def __call__(self, scores, positions):
        top_values, top_indices = tf.math.top_k(scores, k=3)
        best = tf.argmax(scores, axis=-1)
        return {
            "top_values": top_values,
            "top_indices": top_indices,
            "argmax": best,
            "argmin": tf.argmin(scores, axis=-1, output_type=tf.int32),
            "one_hot": tf.one_hot(best, 10),
            "cumsum": tf.cumsum(scores, axis=1),
            "reverse_exclusive_cumsum": tf.cumsum(scores, axis=1, exclusive=True, reverse=True),
            "picked": tf.gather(scores, positions, axis=1, batch_dims=1),
            "columns": tf.gather(scores, [7, 0, 3], axis=1),
            "row_max": tf.reduce_max(scores, axis=1),
        }


@corpus_model("gather_topk", "module", ["top_k", "argmax", "argmin", "one_hot", "cumsum", "gather", "gather_batch_dims"])
def build_gather_topk(export_dir, rng):
    """Indexing and ranking ops: tf.math.top_k, argmax (int64) / argmin
    (int32), one_hot, cumsum (plain and exclusive+reverse), tf.gather with
    batch_dims and with constant indices, reduce_max."""
    module = GatherTopK()
    tf.saved_model.save(module, str(export_dir), signatures={"serving_default": module.__call__})
    return batch_cases("serving_default", lambda n: {
        "scores": normal(rng, (n, 10)),
        "positions": rng.integers(0, 10, n, dtype=np.int32),
    })


class MathMisc(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([None, 6], tf.float32, name="x")])
    def elementwise(self, x):
        return {
            "bucket": tf.raw_ops.Bucketize(input=x, boundaries=[-1.0, 0.0, 0.5, 2.0]),
            "softsign": tf.nn.softsign(x),
            "clipped": tnp.clip(x, -1.0, 1.0),
            "log1p_abs": tnp.log1p(tnp.abs(x)),
            "rounded": tf.round(x),
            "floormod": tf.math.floormod(x, 1.5),
            "sign": tf.sign(x),
            "rsqrt": tf.math.rsqrt(tf.abs(x) + 1.0),
            "erf": tf.math.erf(x),
            "atan2": tf.math.atan2(x, 1.5),
            "squared_difference": tf.math.squared_difference(x, 0.25),
        }

    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, name="x")])
    def non_finite(self, x):
        return {
            "is_nan": tf.math.is_nan(x),
            "is_inf": tf.math.is_inf(x),
            "finite_or_zero": tf.where(tf.math.is_finite(x), x, tf.zeros_like(x)),
            "reciprocal": tf.math.reciprocal(x),
            "divide_no_nan": tf.math.divide_no_nan(tf.ones_like(x), x),
        }


@corpus_model("math_misc", "module",
       ["bucketize", "raw_ops", "softsign", "experimental_numpy", "round_half_to_even", "floormod",
        "erf", "atan2", "nan_inf", "signed_zero"])
def build_math_misc(export_dir, rng):
    """Elementwise math: tf.raw_ops.Bucketize, tf.nn.softsign,
    tf.experimental.numpy clip/log1p/abs, round (half to even), floormod,
    sign, rsqrt, erf, atan2, squared_difference; a second signature feeds
    NaN, +-Infinity and -0.0 through is_nan/is_inf/where/reciprocal/
    divide_no_nan."""
    module = MathMisc()
    tf.saved_model.save(module, str(export_dir), signatures={
        "serving_default": module.elementwise,
        "non_finite": module.non_finite,
    })
    return [
        Case("serving_default", {"x": np.array([[-2.5, -1.5, -0.5, 0.5, 1.5, 2.5]], dtype=np.float32)}),
        Case("serving_default", {"x": normal(rng, (3, 6), 2.0)}),
        Case("non_finite", {"x": np.array([2.0], dtype=np.float32)}),
        Case("non_finite", {"x": np.array([0.0, -0.0, np.inf, -np.inf, np.nan, -4.0], dtype=np.float32)}),
    ]


class MixedDtypes(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.uint8, name="pixels"),
                                  tf.TensorSpec([None, 4], tf.int8, name="offsets")])
    def __call__(self, pixels, offsets):
        total = tf.cast(pixels, tf.int32) + tf.cast(offsets, tf.int32)
        return {
            "total": total,
            "scaled": tf.cast(pixels, tf.float32) / 255.0,
            "bright": pixels > 128,
            "clamped": tf.dtypes.saturate_cast(total, tf.uint8),
            "wrapped": pixels + tf.constant(1, tf.uint8),
            "negated": tf.math.negative(offsets),
            "wide": tf.cast(total, tf.int64) * 1000,
            "ratio": tf.cast(pixels, tf.float64) / 3.0,
            "text": tf.strings.as_string(total),
        }


@corpus_model("mixed_dtypes", "module",
       ["uint8_input", "int8_input", "saturate_cast", "uint8_wraparound", "int64", "float64", "bool", "string",
        "as_string"])
def build_mixed_dtypes(export_dir, rng):
    """uint8 and int8 inputs and outputs of many dtypes at once: int32,
    float32, bool, saturating uint8 cast, wrapping uint8 add, int8 negation
    (-128 stays -128), int64 beyond 2^53, float64 and tf.strings.as_string."""
    module = MixedDtypes()
    tf.saved_model.save(module, str(export_dir), signatures={"serving_default": module.__call__})
    return [
        Case("serving_default", {
            "pixels": np.array([[0, 128, 200, 255]], dtype=np.uint8),
            "offsets": np.array([[-128, -1, 60, 127]], dtype=np.int8),
        }),
        Case("serving_default", {
            "pixels": rng.integers(0, 256, (3, 4), dtype=np.uint8),
            "offsets": rng.integers(-128, 128, (3, 4), dtype=np.int8),
        }),
    ]


class ImageOps(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([None, 8, 8, 3], tf.float32, name="images")])
    def __call__(self, images):
        return {
            "resized_bilinear": tf.image.resize(images, [12, 12]),
            "resized_nearest": tf.image.resize(images, [5, 5], method="nearest"),
            "resized_align_corners": tf.compat.v1.image.resize_bilinear(images, [6, 6], align_corners=True),
            "avg_pool": tf.nn.avg_pool2d(images, 2, 2, "VALID"),
            "max_pool": tf.nn.max_pool2d(images, 3, 2, "SAME"),
            "flipped": tf.image.flip_left_right(images),
            "grayscale": tf.image.rgb_to_grayscale(images),
            "cropped": tf.image.crop_to_bounding_box(images, 1, 2, 5, 4),
            "space_to_depth": tf.nn.space_to_depth(images, 2),
        }


@corpus_model("image_ops", "module",
       ["resize_bilinear", "resize_nearest", "align_corners", "avg_pool", "max_pool_same", "reverse",
        "rgb_to_grayscale", "crop", "space_to_depth"])
def build_image_ops(export_dir, rng):
    """tf.image / tf.nn image ops: bilinear and nearest resize (half-pixel
    centers), v1 bilinear resize with align_corners, average and SAME max
    pooling, flip_left_right, rgb_to_grayscale, crop_to_bounding_box and
    space_to_depth."""
    module = ImageOps()
    tf.saved_model.save(module, str(export_dir), signatures={"serving_default": module.__call__})
    return batch_cases("serving_default", lambda n: {"images": rng.random((n, 8, 8, 3), dtype=np.float32)})


class ShapeOps(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([None, 2, 3], tf.float32, name="x")])
    def __call__(self, x):
        batch = tf.shape(x)[0]
        return {
            "reshaped": tf.reshape(x, [-1, 6]),
            "transposed": tf.transpose(x, [0, 2, 1]),
            "concatenated": tf.concat([x, 2.0 * x], axis=1),
            "stacked": tf.stack([x, -x], axis=1),
            "tiled": tf.tile(x, [1, 2, 1]),
            "padded": tf.pad(x, [[0, 0], [1, 0], [0, 2]], constant_values=-1.0),
            "mirror_padded": tf.pad(x, [[0, 0], [0, 0], [1, 1]], mode="REFLECT"),
            "reversed": x[:, ::-1, :],
            "sliced": x[:, 1:, ::2],
            "expanded": tf.expand_dims(x, -1),
            "squeezed": tf.squeeze(x[:, :1, :], axis=1),
            "broadcast": tf.broadcast_to(x[:, :1, :], tf.stack([batch, 4, 3])),
            "split_last": tf.split(x, 3, axis=2)[2],
            "shape": tf.shape(x),
            "size": tf.size(x),
        }


@corpus_model("shape_ops", "module",
       ["reshape", "transpose", "concat", "stack", "tile", "pad", "mirror_pad", "strided_slice",
        "expand_dims", "squeeze", "broadcast_to", "split", "shape", "size"])
def build_shape_ops(export_dir, rng):
    """Shape manipulation with a dynamic batch: reshape, transpose, concat,
    stack, tile, constant and REFLECT pad, strided slices (negative and
    step 2), expand_dims, squeeze, broadcast_to a shape computed from
    tf.shape, split, and int32 shape/size outputs."""
    module = ShapeOps()
    tf.saved_model.save(module, str(export_dir), signatures={"serving_default": module.__call__})
    return batch_cases("serving_default", lambda n: {"x": normal(rng, (n, 2, 3))})


# --------------------------------------------------------------------------
# Text preprocessing inside the model (TextVectorization, StringLookup)
# --------------------------------------------------------------------------

TEXT_VOCABULARY = ["the", "movie", "was", "great", "bad", "not", "plot", "acting", "and", "boring", "fun"]


def sentences(*values):
    """A [n, 1] DT_STRING input, the shape Keras text models take."""
    return strings(*values).reshape(-1, 1)


@corpus_model("keras_text_classifier", "keras",
       ["text_vectorization", "string_lookup", "string_equal_mask", "embedding_mask_zero", "lstm", "gru",
        "string_input"], rtol=1e-4, atol=1e-5)
def build_keras_text_classifier(export_dir, rng):
    """The text classifier users serve: raw sentences -> TextVectorization
    (lower-case and strip punctuation, whitespace split, StringLookup with
    mask and OOV tokens, padded/truncated to 10 ids) -> Embedding(mask_zero)
    -> LSTM -> GRU -> sigmoid probabilities, plus the token ids themselves;
    exported with model.export. The wasm string Equal behind StringLookup's
    mask once mapped every token to 0 here without an error."""
    vectorize = layers.TextVectorization(vocabulary=TEXT_VOCABULARY, output_sequence_length=10, name="vectorize")
    text = keras.Input((1,), dtype="string", name="text")
    ids = vectorize(text)
    hidden = layers.Embedding(len(TEXT_VOCABULARY) + 2, 8, mask_zero=True)(ids)
    hidden = layers.LSTM(8, return_sequences=True)(hidden)
    hidden = layers.GRU(6)(hidden)
    probability = layers.Dense(1, activation="sigmoid", name="probability")(hidden)
    net = keras.Model(text, {"probability": probability, "token_ids": ids}, name="text_classifier")
    net.export(str(export_dir), verbose=False)
    batch = sentences("The movie was GREAT!", "not fun, and boring... the plot; the acting", "",
                      "unknown words only", "fun fun fun fun fun fun fun fun fun fun fun fun")
    return [Case(signature, {"text": inputs})
            for signature in ("serving_default", "serve")
            for inputs in (sentences("the movie was great"), batch)]


@corpus_model("keras_string_lookup", "keras",
       ["string_lookup", "mask_token", "num_oov_indices", "string_equal_mask", "int64_output", "multi_hot"])
def build_keras_string_lookup(export_dir, rng):
    """StringLookup on [batch, tokens] strings with a mask token and two OOV
    buckets (hashing unseen tokens), and a multi_hot StringLookup over the same
    tokens: the mask test is a string Equal against the mask token."""
    tokens = keras.Input((None,), dtype="string", name="tokens")
    ids = layers.StringLookup(vocabulary=TEXT_VOCABULARY, mask_token="[MASK]", num_oov_indices=2, name="ids")(tokens)
    hot = layers.StringLookup(vocabulary=TEXT_VOCABULARY, output_mode="multi_hot", name="hot")(tokens)
    net = keras.Model(tokens, {"ids": ids, "multi_hot": hot}, name="string_lookup")
    net.export(str(export_dir), verbose=False)

    def grid(*rows):
        return np.array([[t.encode() for t in row] for row in rows], dtype=object)
    return [Case(signature, {"tokens": inputs})
            for signature in ("serving_default", "serve")
            for inputs in (grid(["the", "[MASK]", "zebra"]),
                           grid(["fun", "plot", "", "\u00e9t\u00e9"], ["[MASK]", "movie", "was", "bad"]))]


class Segments(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32, name="data"),
                                  tf.TensorSpec([None], tf.int32, name="ids")])
    def floats(self, data, ids):
        return {reduction: getattr(tf.math, f"unsorted_segment_{reduction}")(data, ids, num_segments=4)
                for reduction in ("sum", "max", "min", "prod")}

    @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.int32, name="data"),
                                  tf.TensorSpec([None, 2], tf.int64, name="ids")])
    def ints(self, data, ids):
        # Rank-2 ids: every element its own segment id; an int64 num_segments.
        return {reduction: getattr(tf.math, f"unsorted_segment_{reduction}")(data, ids, tf.constant(5, tf.int64))
                for reduction in ("sum", "max", "min", "prod")}


@corpus_model("unsorted_segments", "module",
       ["unsorted_segment_sum", "unsorted_segment_max", "unsorted_segment_min", "unsorted_segment_prod",
        "negative_segment_ids", "empty_segments", "int64_num_segments"])
def build_unsorted_segments(export_dir, rng):
    """tf.math.unsorted_segment_sum/max/min/prod into 4 (float32) and 5
    (int32, rank-2 ids) segments: rows with id -1 are dropped, empty
    segments hold 0, 1, the lowest and the highest value of the dtype."""
    module = Segments()
    tf.saved_model.save(module, str(export_dir), signatures={"serving_default": module.floats, "ints": module.ints})
    return [
        Case("serving_default", {"data": normal(rng, (1, 3)), "ids": np.array([2], np.int32)}),
        Case("serving_default", {"data": normal(rng, (6, 3)), "ids": np.array([0, 2, -1, 0, 2, 0], np.int32)}),
        Case("ints", {"data": np.array([[3, -4]], np.int32), "ids": np.array([[1, 1]], np.int64)}),
        Case("ints", {"data": np.array([[3, -4], [7, 2], [-5, 6]], np.int32),
                      "ids": np.array([[0, 3], [3, -1], [0, 0]], np.int64)}),
    ]


class Checked(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, name="x")])
    def sqrt(self, x):
        tf.debugging.assert_non_negative(x, message="x must be >= 0")
        return {"sqrt": tf.sqrt(x)}

    @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.int32, name="ids"),
                                  tf.TensorSpec([], tf.bool, name="flag")])
    def ids(self, ids, flag):
        tf.debugging.Assert(tf.reduce_all(ids < 10), ["ids must be < 10:", ids, "flag", flag], summarize=5)
        return {"doubled": ids * 2}


@corpus_model("assertions", "module", ["assert", "assert_guard_if", "debugging_assert", "error_message", "summarize"])
def build_assertions(export_dir, rng):
    """tf.debugging assertions in serving functions: assert_non_negative
    (an Assert inside the AssertGuard If) and a bare tf.debugging.Assert on
    int32 data with summarize=5. Passing calls answer; failing calls must
    fail with INVALID_ARGUMENT and TensorFlow's "assertion failed: [...]"
    text (recorded from TensorFlow)."""
    module = Checked()
    tf.saved_model.save(module, str(export_dir), signatures={"serving_default": module.sqrt, "ids": module.ids})
    return [
        Case("serving_default", {"x": np.array([4.0], np.float32)}),
        Case("serving_default", {"x": np.array([1.0, 0.25, 9.0], np.float32)}),
        Case("serving_default", {"x": np.array([1.0, -2.5, 3.0, -4.0, 1e10], np.float32)}, expect_error=True),
        Case("ids", {"ids": np.array([[1, 2]], np.int32), "flag": np.array(True)}),
        Case("ids", {"ids": np.array([[1, 2], [3, 4]], np.int32), "flag": np.array(False)}),
        Case("ids", {"ids": np.array([[1, 12], [3, 4], [5, 6]], np.int32), "flag": np.array(True)}, expect_error=True),
    ]


class PngBytes(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([], tf.string, name="image_bytes")])
    def rgb(self, image_bytes):
        pixels = tf.io.decode_png(image_bytes, channels=3)
        return {"pixels": pixels, "mean": tf.reduce_mean(tf.cast(pixels, tf.float32) / 255.0, axis=[0, 1])}

    @tf.function(input_signature=[tf.TensorSpec([], tf.string, name="image_bytes")])
    def own(self, image_bytes):
        return {"pixels": tf.io.decode_png(image_bytes)}

    @tf.function(input_signature=[tf.TensorSpec([], tf.string, name="image_bytes")])
    def rgba(self, image_bytes):
        return {"pixels": tf.io.decode_image(image_bytes, channels=4, expand_animations=False)}


def png_bytes(rng, height, width, channels):
    """PNG bytes encoded by TensorFlow's own encoder."""
    pixels = rng.integers(0, 256, (height, width, channels), dtype=np.uint8)
    return np.array(tf.io.encode_png(pixels).numpy(), dtype=object)


@corpus_model("png_bytes", "module", ["image_bytes", "decode_png", "decode_image", "channels", "gray", "alpha"])
def build_png_bytes(export_dir, rng):
    """Image-bytes signatures (as TF Serving users post base64 images):
    DecodePng with channels 3 and 0 and DecodeImage with channels 4 on PNGs
    that TensorFlow encoded, gray, gray+alpha, RGB and RGBA."""
    module = PngBytes()
    tf.saved_model.save(module, str(export_dir),
                        signatures={"serving_default": module.rgb, "own": module.own, "rgba": module.rgba})
    images = [png_bytes(rng, 5, 4, 3), png_bytes(rng, 3, 3, 1), png_bytes(rng, 2, 6, 2), png_bytes(rng, 4, 4, 4)]
    return [Case(signature, {"image_bytes": image}) for signature in ("serving_default", "own", "rgba") for image in images]


# --------------------------------------------------------------------------
# Vision and signal ops the portable engine computes itself
# --------------------------------------------------------------------------


class GroupedConv(tf.Module):
    def __init__(self, rng):
        super().__init__()
        # filter in-channels = input channels / groups: TensorFlow infers groups from the shapes.
        self.groups2 = tf.Variable(normal(rng, (3, 3, 4, 6), 0.3), name="groups2")
        self.groups4 = tf.Variable(normal(rng, (2, 2, 2, 8), 0.3), name="groups4")
        self.dilated = tf.Variable(normal(rng, (3, 3, 4, 4), 0.3), name="dilated")
        # groups == channels with a channel multiplier of 2: depthwise written as a grouped Conv2D.
        self.depthwise = tf.Variable(normal(rng, (3, 3, 1, 16), 0.3), name="depthwise")
        self.bias = tf.Variable(normal(rng, (16,), 0.1), name="bias")

    @tf.function(input_signature=[tf.TensorSpec([None, 7, 7, 8], tf.float32, name="images")])
    def __call__(self, images):
        # TensorFlow's grappler fuses Conv2D+BiasAdd into a kernel that refuses groups: an AddV2 here.
        depthwise = tf.nn.conv2d(images, self.depthwise, 1, "SAME") + self.bias
        return {
            "groups2_same": tf.nn.conv2d(images, self.groups2, 1, "SAME"),
            "groups4_stride2_valid": tf.nn.conv2d(images, self.groups4, 2, "VALID"),
            "groups2_dilated": tf.nn.conv2d(images, self.dilated, 1, "SAME", dilations=2),
            "explicit_padding": tf.nn.conv2d(images, self.groups2, [1, 2, 1, 1], [[0, 0], [1, 0], [2, 1], [0, 0]]),
            "depthwise_bias": depthwise,
        }


@corpus_model("grouped_conv", "module",
       ["conv2d_groups", "depthwise_as_grouped", "dilations", "explicit_padding", "bias_add_relu", "keras_groups"],
       atol=1e-5)
def build_grouped_conv(export_dir, rng):
    """Grouped Conv2D (filter in-channels a fraction of the input's, as in
    ConvNeXt/ResNeXt): 2 and 4 groups, stride 2 VALID, dilation 2, explicit
    padding, groups == channels with multiplier 2 + a bias, and a
    Keras Conv2D(groups=4) with bias and relu (signature keras)."""
    module = GroupedConv(rng)
    module.net = keras.Sequential([keras.Input((6, 6, 8)), layers.Conv2D(12, 3, groups=4, activation="relu"),
                                   layers.Conv2D(6, 1, groups=2)])
    for weight in module.net.weights:
        weight.assign(normal(rng, weight.shape, 0.3))

    @tf.function(input_signature=[tf.TensorSpec([None, 6, 6, 8], tf.float32, name="images")])
    def keras_net(images):
        return {"features": module.net(images)}

    tf.saved_model.save(module, str(export_dir), signatures={"serving_default": module.__call__, "keras": keras_net})
    return (batch_cases("serving_default", lambda n: {"images": normal(rng, (n, 7, 7, 8))})
            + batch_cases("keras", lambda n: {"images": normal(rng, (n, 6, 6, 8))}))


class ResizeOps(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([None, 6, 5, 3], tf.float32, name="images")])
    def __call__(self, images):
        v1 = tf.compat.v1.image
        return {
            "bicubic_up": tf.image.resize(images, [9, 8], "bicubic"),
            "bicubic_down": tf.image.resize(images, [4, 3], "bicubic"),
            "bicubic_v1": v1.resize_bicubic(images, [9, 7]),
            "bicubic_v1_align_corners": v1.resize_bicubic(images, [4, 7], align_corners=True),
            "area_down": tf.image.resize(images, [4, 3], "area"),
            "area_half": tf.image.resize(images, [3, 5], "area"),
            "area_up": tf.image.resize(images, [9, 8], "area"),
            "area_v1_align_corners": v1.resize_area(images, [4, 3], align_corners=True),
        }

    @tf.function(input_signature=[tf.TensorSpec([None, 5, 7, 1], tf.uint8, name="images")])
    def uint8(self, images):
        return {
            "bicubic": tf.image.resize(images, [8, 4], "bicubic"),
            "area": tf.image.resize(images, [3, 4], "area"),
        }

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 2], tf.float32, name="images"),
                                  tf.TensorSpec([2], tf.int32, name="size")])
    def sized(self, images, size):
        return {"bicubic": tf.image.resize(images, size, "bicubic"), "area": tf.image.resize(images, size, "area")}


@corpus_model("resize_area_bicubic", "module",
       ["resize_bicubic", "resize_area", "half_pixel_centers", "align_corners", "upscale", "downscale", "uint8_images",
        "size_input", "bit_exact"],
       rtol=0, atol=0)
def build_resize_area_bicubic(export_dir, rng):
    """tf.image.resize with bicubic (half-pixel centers, Keys a=-0.5) and
    area, up and down by integer and fractional factors; v1
    resize_bicubic/resize_area with and without align_corners; uint8
    images (float32 results, signature uint8); a fed size (an empty one
    fails as in TensorFlow), compared exactly (TensorFlow's float32 steps)."""
    module = ResizeOps()
    tf.saved_model.save(module, str(export_dir),
                        signatures={"serving_default": module.__call__, "uint8": module.uint8, "sized": module.sized})
    return (batch_cases("serving_default", lambda n: {"images": rng.random((n, 6, 5, 3), dtype=np.float32)})
            + batch_cases("uint8", lambda n: {"images": rng.integers(0, 256, (n, 5, 7, 1), dtype=np.uint8)})
            + [Case("sized", {"images": normal(rng, (1, 3, 4, 2)), "size": np.array([7, 2], np.int32)}),
               Case("sized", {"images": normal(rng, (2, 9, 2, 2)), "size": np.array([4, 5], np.int32)}),
               Case("sized", {"images": normal(rng, (1, 3, 4, 2)), "size": np.array([0, 2], np.int32)}, expect_error=True)])


class AntialiasResize(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([None, 9, 7, 2], tf.float32, name="images")])
    def __call__(self, images):
        resize = tf.image.resize
        return {
            "bilinear_antialias": resize(images, [4, 3], "bilinear", antialias=True),
            "bicubic_antialias": resize(images, [5, 4], "bicubic", antialias=True),
            "lanczos3_down": resize(images, [4, 5], "lanczos3"),
            "lanczos3_up": resize(images, [13, 10], "lanczos3"),
            "lanczos5": resize(images, [6, 3], "lanczos5"),
            "gaussian": resize(images, [5, 5], "gaussian"),
            "mitchellcubic": resize(images, [4, 9], "mitchellcubic"),
            "lanczos3_no_antialias": resize(images, [4, 5], "lanczos3", antialias=False),
        }

    @tf.function(input_signature=[tf.TensorSpec([None, 6, 6, 1], tf.uint8, name="images")])
    def uint8(self, images):
        return {"lanczos3": tf.image.resize(images, [3, 4], "lanczos3")}


@corpus_model("resize_antialias", "module",
       ["scale_and_translate", "antialias", "lanczos3", "lanczos5", "gaussian", "mitchellcubic", "upscale", "uint8_images"],
       atol=1e-5)
def build_resize_antialias(export_dir, rng):
    """tf.image.resize through ScaleAndTranslate: antialiased bilinear and
    bicubic downscales, lanczos3 (down, up, and without antialias),
    lanczos5, gaussian and mitchellcubic, float32 and uint8 images."""
    module = AntialiasResize()
    tf.saved_model.save(module, str(export_dir), signatures={"serving_default": module.__call__, "uint8": module.uint8})
    return (batch_cases("serving_default", lambda n: {"images": rng.random((n, 9, 7, 2), dtype=np.float32)})
            + batch_cases("uint8", lambda n: {"images": rng.integers(0, 256, (n, 6, 6, 1), dtype=np.uint8)}))


class ColorOps(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([None, 5, 7, 3], tf.float32, name="images"),
                                  tf.TensorSpec([], tf.float32, name="factor")])
    def __call__(self, images, factor):
        return {
            "hsv": tf.image.rgb_to_hsv(images),
            "rgb": tf.image.hsv_to_rgb(images),
            "contrast": tf.image.adjust_contrast(images, factor),
            "saturation": tf.image.adjust_saturation(images, factor),
            "hue": tf.image.adjust_hue(images, factor - 1.0),
            "hue_negative": tf.image.adjust_hue(images, -0.45),
        }


def color_images(rng, n):
    """Random pixels in [0, 1] with gray, black, white and out-of-range ones."""
    images = rng.random((n, 5, 7, 3), dtype=np.float32)
    images[0, 0, 0] = [0.5, 0.5, 0.5]
    images[0, 0, 1] = [0.0, 0.0, 0.0]
    images[0, 0, 2] = [1.0, 1.0, 1.0]
    images[0, 0, 3] = [1.0, 0.0, 1.0]
    images[0, 1, 0] = [0.2, 0.9, 0.9]
    images[0, 1, 1] = [1.2, -0.1, 0.4]
    return images


@corpus_model("color_ops", "module",
       ["rgb_to_hsv", "hsv_to_rgb", "adjust_contrast", "adjust_saturation", "adjust_hue", "factor_input", "bit_exact"],
       rtol=0, atol=0)
def build_color_ops(export_dir, rng):
    """tf.image colour ops: rgb_to_hsv, hsv_to_rgb, adjust_contrast,
    adjust_saturation and adjust_hue with the factor fed as an input
    (AdjustContrastv2, AdjustSaturation, AdjustHue), on random pixels with
    gray, black, white and out-of-range ones, compared exactly."""
    module = ColorOps()
    tf.saved_model.save(module, str(export_dir), signatures={"serving_default": module.__call__})
    return [Case("serving_default", {"images": color_images(rng, n), "factor": np.array(f, np.float32)})
            for n, f in ((1, 1.7), (3, 0.4), (2, 1.0))]


class Bincounts(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([None], tf.int32, name="ids"),
                                  tf.TensorSpec([None], tf.float32, name="weights")])
    def __call__(self, ids, weights):
        return {
            "counts": tf.math.bincount(ids),
            "weighted": tf.math.bincount(ids, weights=weights, minlength=9),
            "binary": tf.math.bincount(ids, minlength=4, maxlength=4, binary_output=True),
            "capped": tf.math.bincount(ids, maxlength=3),
            "raw_bincount": tf.raw_ops.Bincount(arr=ids, size=6, weights=weights),
            "raw_unweighted": tf.raw_ops.Bincount(arr=ids, size=5, weights=tf.constant([], tf.float32)),
        }

    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.int64, name="ids")])
    def rows(self, ids):
        # Per row (axis=-1), as keras CategoryEncoding's count and multi_hot modes compute.
        return {
            "counts": tf.math.bincount(ids, axis=-1, minlength=6, maxlength=6),
            "multi_hot": tf.math.bincount(ids, axis=-1, minlength=6, maxlength=6, binary_output=True),
        }

    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.int32, name="ids"),
                                  tf.TensorSpec([None], tf.int64, name="lengths"),
                                  tf.TensorSpec([None, 4], tf.float32, name="weights")])
    def ragged(self, ids, lengths, weights):
        # Ragged rows (RaggedBincount): the first `lengths` ids of each row.
        ragged_ids = tf.RaggedTensor.from_tensor(ids, lengths=lengths)
        ragged_weights = tf.RaggedTensor.from_tensor(weights, lengths=lengths)
        return {
            "counts": tf.math.bincount(ragged_ids, axis=-1, minlength=5, maxlength=5),
            "weighted": tf.math.bincount(ragged_ids, weights=ragged_weights, axis=-1, minlength=5, maxlength=5),
            "multi_hot": tf.math.bincount(ragged_ids, axis=-1, minlength=5, maxlength=5, binary_output=True),
        }


@corpus_model("bincount", "module",
       ["bincount", "dense_bincount", "ragged_bincount", "weights", "minlength", "maxlength", "binary_output", "axis_-1",
        "int64_ids"])
def build_bincount(export_dir, rng):
    """tf.math.bincount (DenseBincount) with and without weights, minlength,
    maxlength and binary_output; the raw Bincount op; per-row counts of
    int64 ids (axis=-1, as CategoryEncoding) and of ragged rows
    (RaggedBincount); negative ids fail as in TensorFlow."""
    module = Bincounts()
    tf.saved_model.save(module, str(export_dir),
                        signatures={"serving_default": module.__call__, "rows": module.rows, "ragged": module.ragged})
    return [
        Case("serving_default", {"ids": np.array([3], np.int32), "weights": np.array([0.5], np.float32)}),
        Case("serving_default", {"ids": np.array([0, 1, 1, 4, 7, 1], np.int32), "weights": normal(rng, 6)}),
        Case("serving_default", {"ids": np.array([], np.int32), "weights": np.array([], np.float32)}),
        Case("serving_default", {"ids": np.array([1, -2], np.int32), "weights": normal(rng, 2)}, expect_error=True),
        Case("rows", {"ids": np.array([[0, 1, 1, 5]], np.int64)}),
        Case("rows", {"ids": np.array([[0, 1, 1, 5], [2, 2, 2, 2], [9, 3, 0, 3]], np.int64)}),
        Case("ragged", {"ids": np.array([[1, 1, 7, 0]], np.int32), "lengths": np.array([3], np.int64),
                        "weights": normal(rng, (1, 4))}),
        Case("ragged", {"ids": np.array([[1, 1, 7, 0], [4, 4, 4, 4], [2, 0, 2, 3]], np.int32),
                        "lengths": np.array([3, 0, 4], np.int64), "weights": normal(rng, (3, 4))}),
        Case("ragged", {"ids": np.array([[1, -1, 0, 0]], np.int32), "lengths": np.array([2], np.int64),
                        "weights": normal(rng, (1, 4))}, expect_error=True),
    ]


class Patches(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([None, 7, 6, 2], tf.float32, name="images")])
    def __call__(self, images):
        patches = tf.image.extract_patches
        return {
            "valid": patches(images, [1, 3, 3, 1], [1, 2, 2, 1], [1, 1, 1, 1], "VALID"),
            "same": patches(images, [1, 2, 3, 1], [1, 3, 2, 1], [1, 1, 1, 1], "SAME"),
            "rates": patches(images, [1, 2, 2, 1], [1, 1, 1, 1], [1, 2, 3, 1], "SAME"),
            "rates_valid": patches(images, [1, 3, 2, 1], [1, 2, 1, 1], [1, 2, 2, 1], "VALID"),
        }

    @tf.function(input_signature=[tf.TensorSpec([None, 4, 5, 1], tf.int32, name="images")])
    def ints(self, images):
        return {"patches": tf.image.extract_patches(images, [1, 2, 2, 1], [1, 2, 2, 1], [1, 1, 1, 1], "SAME")}

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 1], tf.float32, name="images")])
    def any_size(self, images):
        return {"patches": tf.image.extract_patches(images, [1, 3, 3, 1], [1, 1, 1, 1], [1, 1, 1, 1], "VALID")}


@corpus_model("extract_patches", "module", ["extract_image_patches", "valid", "same", "rates", "strides", "int32"],
              rtol=0, atol=0)
def build_extract_patches(export_dir, rng):
    """tf.image.extract_patches (ExtractImagePatches): VALID and SAME
    padding (zeros), strides, rates, non-square sizes, int32 images; no
    patch at all, and an image too small for that, failing as in
    TensorFlow. Exact."""
    module = Patches()
    tf.saved_model.save(module, str(export_dir),
                        signatures={"serving_default": module.__call__, "ints": module.ints, "any_size": module.any_size})
    return (batch_cases("serving_default", lambda n: {"images": normal(rng, (n, 7, 6, 2))})
            + batch_cases("ints", lambda n: {"images": rng.integers(-50, 50, (n, 4, 5, 1), dtype=np.int32)})
            + [Case("any_size", {"images": normal(rng, (2, 3, 5, 1))}),
               Case("any_size", {"images": normal(rng, (1, 2, 5, 1))}),
               Case("any_size", {"images": normal(rng, (1, 1, 5, 1))}, expect_error=True)])


class CombinedNms(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([None, 12, 1, 4], tf.float32, name="boxes"),
                                  tf.TensorSpec([None, 12, 3], tf.float32, name="scores")])
    def __call__(self, boxes, scores):
        nms = tf.image.combined_non_max_suppression
        shared = nms(boxes, scores, max_output_size_per_class=4, max_total_size=6, iou_threshold=0.5, score_threshold=0.2)
        padded = nms(boxes, scores, 3, 10, iou_threshold=0.3, score_threshold=0.1, pad_per_class=True, clip_boxes=False)
        return {
            "boxes": shared.nmsed_boxes, "scores": shared.nmsed_scores,
            "classes": shared.nmsed_classes, "valid": shared.valid_detections,
            "padded_boxes": padded.nmsed_boxes, "padded_scores": padded.nmsed_scores,
            "padded_classes": padded.nmsed_classes, "padded_valid": padded.valid_detections,
        }

    @tf.function(input_signature=[tf.TensorSpec([None, 10, 2, 4], tf.float32, name="boxes"),
                                  tf.TensorSpec([None, 10, 2], tf.float32, name="scores")])
    def per_class(self, boxes, scores):
        result = tf.image.combined_non_max_suppression(boxes, scores, 5, 7, iou_threshold=0.4, score_threshold=0.05)
        return {"boxes": result.nmsed_boxes, "scores": result.nmsed_scores,
                "classes": result.nmsed_classes, "valid": result.valid_detections}

    @tf.function(input_signature=[tf.TensorSpec([None, 40, 1, 4], tf.float32, name="boxes"),
                                  tf.TensorSpec([None, 40, 4], tf.float32, name="scores")])
    def ties(self, boxes, scores):
        # Scores on a coarse grid (many exact ties) and 40 candidates over 4 classes: the heap and
        # the sort decide the order of equals, and the sort runs past its insertion-sort size.
        result = tf.image.combined_non_max_suppression(boxes, scores, 10, 25, iou_threshold=0.6,
                                                       score_threshold=0.0)
        return {"boxes": result.nmsed_boxes, "scores": result.nmsed_scores,
                "classes": result.nmsed_classes, "valid": result.valid_detections}


def detection_boxes(rng, n, count, classes):
    """Overlapping boxes in clusters, some outside [0, 1] and some with flipped corners."""
    centers = rng.random((n, count, classes, 2)) * 0.8 + 0.1
    centers[:, 1::3] = centers[:, 0::3][:, : centers[:, 1::3].shape[1]] + 0.02
    sizes = rng.random((n, count, classes, 2)) * 0.4 + 0.1
    boxes = np.concatenate([centers - sizes / 2, centers + sizes / 2], axis=-1).astype(np.float32)
    boxes[:, 2] = boxes[:, 2][..., [2, 3, 0, 1]]
    boxes[:, 3] *= 1.5
    return boxes


def detection_scores(rng, n, count, classes):
    scores = rng.random((n, count, classes)).astype(np.float32)
    scores[:, 5] = scores[:, 4]  # a tie
    return scores


@corpus_model("combined_nms", "module",
       ["combined_non_max_suppression", "score_threshold", "pad_per_class", "clip_boxes", "per_class_boxes", "ties"],
       rtol=0, atol=0)
def build_combined_nms(export_dir, rng):
    """tf.image.combined_non_max_suppression (as detection heads end): boxes
    shared by all classes or one per class, score thresholds, clipping,
    pad_per_class, flipped corners, tied scores (many, on a coarse grid,
    in TensorFlow's order), padded outputs and valid_detections; exact."""
    module = CombinedNms()
    tf.saved_model.save(module, str(export_dir),
                        signatures={"serving_default": module.__call__, "per_class": module.per_class, "ties": module.ties})
    tied = lambda n: np.round(detection_scores(rng, n, 40, 4) * 4) / 4  # noqa: E731
    return ([Case("serving_default", {"boxes": detection_boxes(rng, n, 12, 1), "scores": detection_scores(rng, n, 12, 3)}) for n in (1, 3)]
            + [Case("per_class", {"boxes": detection_boxes(rng, n, 10, 2), "scores": detection_scores(rng, n, 10, 2)}) for n in (1, 2)]
            + [Case("ties", {"boxes": detection_boxes(rng, n, 40, 1), "scores": tied(n).astype(np.float32)}) for n in (1, 2)])


class CtcGreedy(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([None, 6, 5], tf.float32, name="probabilities"),
                                  tf.TensorSpec([None], tf.int32, name="lengths")])
    def __call__(self, probabilities, lengths):
        logits = tf.math.log(tf.transpose(probabilities, [1, 0, 2]) + 1e-7)
        (merged,), merged_log_prob = tf.nn.ctc_greedy_decoder(logits, lengths, merge_repeated=True)
        (kept,), kept_log_prob = tf.nn.ctc_greedy_decoder(logits, lengths, merge_repeated=False, blank_index=0)
        keras_decoded, _ = keras.ops.ctc_decode(probabilities, lengths, strategy="greedy")
        return {
            "merged": tf.sparse.to_dense(merged, default_value=-1), "merged_log_prob": merged_log_prob,
            "kept": tf.sparse.to_dense(kept, default_value=-1), "kept_log_prob": kept_log_prob,
            "kept_shape": kept.dense_shape, "keras": keras_decoded,
        }


def ctc_probabilities(rng, n):
    """Softmax rows with exact repeats and blanks, so merging and blank dropping both matter."""
    logits = rng.standard_normal((n, 6, 5)) * 2
    logits[:, 2] = logits[:, 1]
    logits[0, 4, 4] = 9.0  # a blank (last class)
    probabilities = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    return probabilities.astype(np.float32)


@corpus_model("ctc_greedy", "module", ["ctc_greedy_decoder", "merge_repeated", "blank_index", "sequence_length", "keras_ctc_decode"],
              atol=1e-5)
def build_ctc_greedy(export_dir, rng):
    """CTC greedy decoding (OCR/speech heads): tf.nn.ctc_greedy_decoder with
    and without merge_repeated, blank last or first, per-example sequence
    lengths, and keras.ops.ctc_decode(strategy="greedy")."""
    module = CtcGreedy()
    tf.saved_model.save(module, str(export_dir), signatures={"serving_default": module.__call__})
    return [Case("serving_default", {"probabilities": ctc_probabilities(rng, 1), "lengths": np.array([6], np.int32)}),
            Case("serving_default", {"probabilities": ctc_probabilities(rng, 3), "lengths": np.array([6, 2, 0], np.int32)})]


class Spectral(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([None, 16], tf.float32, name="signal")])
    def __call__(self, signal):
        spectrum = tf.signal.rfft(signal)
        odd = tf.signal.rfft(signal[:, :15])
        return {
            "magnitude": tf.abs(spectrum), "real": tf.math.real(spectrum), "imag": tf.math.imag(spectrum),
            "odd_length": tf.abs(odd), "padded_length": tf.abs(tf.signal.rfft(signal, [20])),
            "roundtrip": tf.signal.irfft(spectrum), "odd_roundtrip": tf.signal.irfft(odd, [15]),
            "irfft_shorter": tf.signal.irfft(spectrum, [10]),
            "irfft_longer": tf.signal.irfft(spectrum, [25]),
            "band": tf.abs(spectrum[:, 2:6]), "band_reversed": tf.math.imag(tf.reverse(spectrum[:, 1:4], [1])),
            "gathered": tf.math.real(tf.gather(spectrum, [4, 0, 4], axis=1)),
            "tiled": tf.abs(tf.tile(spectrum[:, :2], [1, 2])),
        }

    @tf.function(input_signature=[tf.TensorSpec([None, 64], tf.float32, name="audio")])
    def stft(self, audio):
        return {"spectrogram": tf.abs(tf.signal.stft(audio, frame_length=16, frame_step=8))}


@corpus_model("spectral", "module", ["rfft", "irfft", "complex64", "fft_length", "stft", "audio"], atol=1e-5)
def build_spectral(export_dir, rng):
    """tf.signal.rfft/irfft on complex64 intermediates: magnitude, real and
    imaginary parts, odd, padded and truncated fft lengths (both ways),
    slices, reversals, gathers and tiles of the complex spectrum, round trips,
    and an STFT magnitude spectrogram (audio models' front end)."""
    module = Spectral()
    tf.saved_model.save(module, str(export_dir), signatures={"serving_default": module.__call__, "stft": module.stft})
    return (batch_cases("serving_default", lambda n: {"signal": normal(rng, (n, 16))})
            + batch_cases("stft", lambda n: {"audio": normal(rng, (n, 64))}))


class Crosses(tf.Module):
    def __init__(self):
        super().__init__()
        self.hashed_crossing = keras.layers.HashedCrossing(num_bins=16)

    @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.string, name="words"),
                                  tf.TensorSpec([None, 1], tf.int64, name="ids")])
    def __call__(self, words, ids):
        sparse_words = tf.sparse.from_dense(words)  # "" entries dropped: rows of 0, 1 or 2 features
        hashed = tf.sparse.cross_hashed([words, ids], num_buckets=1000)
        keyed = tf.sparse.cross_hashed([sparse_words, ids], num_buckets=50, hash_key=12345)
        crossed = tf.sparse.cross([sparse_words, ids, words], separator="#")
        return {
            "hashed": tf.sparse.to_dense(hashed), "keyed": tf.sparse.to_dense(keyed, default_value=-1),
            "keyed_shape": keyed.dense_shape, "crossed": tf.sparse.to_dense(crossed, default_value=""),
            "crossed_indices": crossed.indices,
            "v1_strings": tf.sparse.to_dense(tf.SparseTensor(*tf.raw_ops.SparseCross(
                indices=[], values=[], shapes=[], dense_inputs=[words, tf.strings.as_string(ids)], hashed_output=False,
                num_buckets=0, hash_key=0, out_type=tf.string, internal_type=tf.string)), default_value=""),
            "hashed_crossing": self.hashed_crossing((words[:, 0], ids[:, 0])),
        }


@corpus_model("sparse_cross", "module",
       ["sparse_cross_hashed", "sparse_cross", "hash_key", "separator", "hashed_crossing", "sparse_and_dense", "empty_rows"])
def build_sparse_cross(export_dir, rng):
    """Feature crosses: tf.sparse.cross_hashed (SparseCross, FingerprintCat64
    chains, with and without hash_key) of dense and sparse string and int64
    columns, tf.sparse.cross (SparseCrossV2, a separator), the v1 string
    SparseCross, and Keras HashedCrossing; rows with no features."""
    module = Crosses()
    tf.saved_model.save(module, str(export_dir), signatures={"serving_default": module.__call__})
    words = lambda rows: np.array(rows, dtype=object)  # noqa: E731
    return [
        Case("serving_default", {"words": words([[b"cat", b"dog"]]), "ids": np.array([[3]], np.int64)}),
        Case("serving_default", {"words": words([[b"a", b""], [b"", b""], [b"\xc3\xa9t\xc3\xa9", b"b"]]),
                                 "ids": np.array([[-7], [0], [123456]], np.int64)}),
    ]


# --------------------------------------------------------------------------
# TF1 exports (tf.compat.v1 graphs, VariableV2, SavedModelBuilder)
# --------------------------------------------------------------------------

IRIS_CLASSES = ["setosa", "versicolor", "virginica"]


def ref_variable(rng, name, shape, scale=0.5):
    """A TF1 reference variable (VariableV2 op) with seeded initial values."""
    return tf.compat.v1.Variable(normal(rng, shape, scale), name=name, use_resource=False)


def save_tf1(graph, export_dir, signature_def_map, main_op=None):
    v1 = tf.compat.v1
    with v1.Session(graph=graph) as session:
        session.run(v1.global_variables_initializer())
        builder = v1.saved_model.Builder(str(export_dir))
        builder.add_meta_graph_and_variables(
            session, [v1.saved_model.tag_constants.SERVING],
            signature_def_map=signature_def_map, main_op=main_op, strip_default_attrs=True)
        builder.save()


@corpus_model("tf1_serving", "tf1",
       ["tf1", "variable_v2", "saved_model_builder", "predict", "classify", "regress", "parse_example",
        "example_default_value", "hash_table", "main_op"])
def build_tf1_serving(export_dir, rng):
    """TF1 export: tf.compat.v1 graph with VariableV2 weights saved by
    SavedModelBuilder with a main_op (table initializer). Signatures
    predict (float input; also as serving_default) with class names from a
    HashTable, classify (serialized tf.Example via parse_example, with a
    defaulted feature -> classes + scores, tensorflow/serving/classify) and
    regress (serialized tf.Example -> outputs, tensorflow/serving/regress)."""
    v1 = tf.compat.v1
    su = v1.saved_model.signature_def_utils
    graph = tf.Graph()
    with graph.as_default():
        w1, b1 = ref_variable(rng, "hidden/weights", (4, 8)), ref_variable(rng, "hidden/biases", (8,))
        w2, b2 = ref_variable(rng, "logits/weights", (8, 3)), ref_variable(rng, "logits/biases", (3,))
        wr, br = ref_variable(rng, "regression/weights", (8, 1)), ref_variable(rng, "regression/biases", (1,))

        def hidden(features):
            return tf.nn.relu(tf.nn.bias_add(tf.matmul(features, w1), b1))

        def logits_of(features):
            return tf.nn.bias_add(tf.matmul(hidden(features), w2), b2)

        class_table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(tf.constant([0, 1, 2], tf.int64), tf.constant(IRIS_CLASSES)),
            default_value="unknown")

        x = v1.placeholder(tf.float32, [None, 4], name="x")
        logits = logits_of(x)
        class_ids = tf.argmax(logits, axis=-1)
        predict = su.predict_signature_def(
            inputs={"x": x},
            outputs={
                "logits": logits,
                "probabilities": tf.nn.softmax(logits),
                "class_ids": class_ids,
                "class_names": class_table.lookup(class_ids),
            })

        serialized = v1.placeholder(tf.string, [None], name="tf_example")
        parsed = tf.io.parse_example(serialized, {
            "x": tf.io.FixedLenFeature([4], tf.float32),
            "scale": tf.io.FixedLenFeature([1], tf.float32, default_value=[1.0]),
        })
        example_features = parsed["x"] * parsed["scale"]
        scores = tf.nn.softmax(logits_of(example_features))
        classes = tf.tile(tf.constant([IRIS_CLASSES]), [tf.shape(scores)[0], 1])
        regression = tf.nn.bias_add(tf.matmul(hidden(example_features), wr), br)

        save_tf1(graph, export_dir, {
            "serving_default": predict,
            "predict": predict,
            "classify": su.classification_signature_def(serialized, classes, scores),
            "regress": su.regression_signature_def(serialized, regression),
        }, main_op=v1.tables_initializer())

    def examples(n):
        rows = []
        for i in range(n):
            features = {"x": [float(v) for v in normal(rng, 4)]}
            if i % 2 == 1:
                features["scale"] = [0.5]
            rows.append(tf_example(features))
        return {"inputs": np.array(rows, dtype=object)}

    cases = []
    for signature in ("serving_default", "predict"):
        cases += batch_cases(signature, lambda n: {"x": normal(rng, (n, 4))})
    for signature in ("classify", "regress"):
        cases += batch_cases(signature, examples)
    return cases


@corpus_model("tf1_conv_net", "tf1", ["tf1", "variable_v2", "conv2d", "bias_add", "fused_batch_norm", "max_pool", "reshape"],
       atol=1e-5)
def build_tf1_conv_net(export_dir, rng):
    """TF1 CNN graph of raw tf.nn ops on VariableV2 weights: conv2d +
    bias_add, FusedBatchNormV3 in inference mode, relu, max_pool, reshape,
    matmul, softmax; one predict signature (serving_default)."""
    v1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default():
        images = v1.placeholder(tf.float32, [None, 8, 8, 1], name="images")
        conv = tf.nn.bias_add(
            tf.nn.conv2d(images, ref_variable(rng, "conv/filter", (3, 3, 1, 4)), strides=1, padding="SAME"),
            ref_variable(rng, "conv/bias", (4,), 0.1))
        mean = ref_variable(rng, "bn/moving_mean", (4,), 0.1)
        variance = v1.Variable(rng.uniform(0.5, 1.5, 4).astype(np.float32),
                                         name="bn/moving_variance", use_resource=False)
        normalized, _, _ = v1.nn.fused_batch_norm(
            conv, ref_variable(rng, "bn/gamma", (4,)) + 1.0, ref_variable(rng, "bn/beta", (4,), 0.1),
            mean=mean, variance=variance, epsilon=1e-3, is_training=False)
        pooled = tf.nn.max_pool2d(tf.nn.relu(normalized), 2, 2, "VALID")
        logits = tf.matmul(tf.reshape(pooled, [-1, 64]), ref_variable(rng, "dense/weights", (64, 5), 0.2))
        signature = v1.saved_model.signature_def_utils.predict_signature_def(
            inputs={"images": images},
            outputs={"logits": logits, "probabilities": tf.nn.softmax(logits)})
        save_tf1(graph, export_dir, {"serving_default": signature})
    return batch_cases("serving_default", lambda n: {"images": rng.random((n, 8, 8, 1), dtype=np.float32)})


class Tf1TanhCell:
    """The smallest object tf.compat.v1.nn.dynamic_rnn accepts as a cell (the Keras-2 cells are gone
    with Keras 3): h' = tanh([x, h] W + b), with VariableV2 weights."""

    def __init__(self, rng, input_dim, units):
        self.units = units
        self.kernel = ref_variable(rng, "rnn/kernel", (input_dim + units, units))
        self.bias = ref_variable(rng, "rnn/bias", (units,))

    state_size = property(lambda self: self.units)
    output_size = property(lambda self: self.units)

    def zero_state(self, batch_size, dtype):
        return tf.zeros([batch_size, self.units], dtype)

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
        return self.zero_state(batch_size, dtype)

    def __call__(self, inputs, state, scope=None):
        h = tf.tanh(tf.nn.bias_add(tf.matmul(tf.concat([inputs, state], 1), self.kernel), self.bias))
        return h, h


@corpus_model("tf1_dynamic_rnn", "tf1",
       ["tf1", "dynamic_rnn", "sequence_length", "select_rank1_condition", "while_loop", "tensor_list",
        "variable_v2"], atol=1e-5)
def build_tf1_dynamic_rnn(export_dir, rng):
    """TF1 graph-mode tf.compat.v1.nn.dynamic_rnn with sequence_length over
    [batch, 6, 3] inputs, saved by SavedModelBuilder: past each row's length
    the loop copies state and zeroes output with a TF1 Select whose condition
    is rank 1 (one bool per row), which must select whole rows."""
    v1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default():
        x = v1.placeholder(tf.float32, [None, 6, 3], name="x")
        lengths = v1.placeholder(tf.int32, [None], name="lengths")
        outputs, state = v1.nn.dynamic_rnn(Tf1TanhCell(rng, 3, 4), x, sequence_length=lengths, dtype=tf.float32)
        save_tf1(graph, export_dir, {
            "serving_default": v1.saved_model.signature_def_utils.predict_signature_def(
                inputs={"x": x, "lengths": lengths}, outputs={"outputs": outputs, "state": state}),
        })
    return [
        Case("serving_default", {"x": normal(rng, (1, 6, 3)), "lengths": np.array([4], np.int32)}),
        Case("serving_default", {"x": normal(rng, (3, 6, 3)), "lengths": np.array([6, 2, 0], np.int32)}),
    ]


@corpus_model("tf1_tensor_tables", "tf1",
       ["tf1", "index_to_string_table_from_tensor", "index_table_from_tensor", "table_keys_from_range",
        "top_k", "main_op"])
def build_tf1_tensor_tables(export_dir, rng):
    """TF1 export shaped like TF Serving's mnist_saved_model: class names
    from index_to_string_table_from_tensor (keys = cast(range(size(vocab))),
    not a constant) for the top-3 classes, and string -> id through
    index_table_from_tensor with an OOV bucket."""
    from tensorflow.python.ops import lookup_ops
    v1 = tf.compat.v1
    su = v1.saved_model.signature_def_utils
    graph = tf.Graph()
    with graph.as_default():
        weights = ref_variable(rng, "softmax/weights", (4, 5))
        x = v1.placeholder(tf.float32, [None, 4], name="x")
        scores = tf.nn.softmax(tf.matmul(x, weights))
        values, indices = tf.nn.top_k(scores, 3)
        names = lookup_ops.index_to_string_table_from_tensor(tf.constant([f"class_{i}" for i in range(5)]))
        tokens = v1.placeholder(tf.string, [None], name="tokens")
        ids = lookup_ops.index_table_from_tensor(tf.constant(["zero", "one", "two"]), num_oov_buckets=1)
        save_tf1(graph, export_dir, {
            "serving_default": su.predict_signature_def(
                inputs={"x": x}, outputs={"classes": names.lookup(tf.cast(indices, tf.int64)), "scores": values}),
            "ids": su.predict_signature_def(inputs={"tokens": tokens}, outputs={"ids": ids.lookup(tokens)}),
        }, main_op=v1.tables_initializer())
    return [
        Case("serving_default", {"x": normal(rng, (1, 4))}),
        Case("serving_default", {"x": normal(rng, (3, 4))}),
        Case("ids", {"tokens": strings("two")}),
        Case("ids", {"tokens": strings("one", "zero", "seven", "two")}),
    ]


# --------------------------------------------------------------------------
# Recording
# --------------------------------------------------------------------------


def encode_float(value):
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def encode_tensor(tensor):
    """A tf.Tensor as {"dtype", "shape", "values"} (see the module docstring)."""
    dtype = tensor.dtype
    # Scalar strings come back from .numpy() as bare bytes.
    flat = np.asarray(tensor.numpy(), dtype=object if dtype == tf.string else None).reshape(-1)
    if dtype == tf.string:
        values = [base64.b64encode(v).decode("ascii") for v in flat]
    elif dtype == tf.bool:
        values = [bool(v) for v in flat]
    elif dtype in (tf.int64, tf.uint64):
        values = [str(int(v)) for v in flat]
    elif dtype.is_integer:
        values = [int(v) for v in flat]
    elif dtype.is_floating:
        values = [encode_float(float(v)) for v in flat]
    else:
        raise TypeError(f"unsupported dtype {dtype.name}")
    return {"dtype": dtype.name, "shape": tensor.shape.as_list(), "values": values}


def directory_bytes(path):
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


def check_batch_coverage(spec, signature, input_specs, cases):
    """Signatures with a leading None dimension need a batch-1 and a batch>1 case."""
    batched = [alias for alias, s in input_specs.items() if s.shape.rank and s.shape[0] is None]
    if not batched:
        return
    sizes = {int(c.inputs[alias].shape[0]) for c in cases if c.signature == signature for alias in batched}
    if 1 not in sizes or max(sizes) < 2:
        raise AssertionError(f"{spec.name}/{signature}: needs batch 1 and >1 cases, got sizes {sorted(sizes)}")


def record(spec, export_dir, cases):
    """Load the SavedModel back and run every case through its signature."""
    loaded = tf.saved_model.load(str(export_dir))
    signatures = dict(loaded.signatures)
    recorded = []
    for case in cases:
        function = signatures[case.signature]
        input_specs = function.structured_input_signature[1]
        if set(case.inputs) != set(input_specs):
            raise AssertionError(
                f"{spec.name}/{case.signature}: inputs {sorted(case.inputs)} != aliases {sorted(input_specs)}")
        inputs = {alias: tf.constant(value) for alias, value in case.inputs.items()}
        for alias, tensor in inputs.items():
            if tensor.dtype != input_specs[alias].dtype or not input_specs[alias].shape.is_compatible_with(tensor.shape):
                raise AssertionError(f"{spec.name}/{case.signature}/{alias}: {tensor.dtype.name}{tensor.shape} "
                                     f"does not match {input_specs[alias]}")
        if case.expect_error:
            try:
                function(**inputs)
            except tf.errors.OpError as error:
                recorded.append({
                    "signature": case.signature,
                    "inputs": {alias: encode_tensor(t) for alias, t in sorted(inputs.items())},
                    "error": {"code": error.error_code, "message": error.message},
                })
                continue
            raise AssertionError(f"{spec.name}/{case.signature}: expected an error")
        outputs = function(**inputs)
        if set(outputs) != set(function.structured_outputs):
            raise AssertionError(f"{spec.name}/{case.signature}: missing outputs")
        recorded.append({
            "signature": case.signature,
            "inputs": {alias: encode_tensor(t) for alias, t in sorted(inputs.items())},
            "outputs": {alias: encode_tensor(t) for alias, t in sorted(outputs.items())},
        })
    for signature, function in signatures.items():
        count = sum(1 for c in cases if c.signature == signature and not c.expect_error)
        if count < 2:
            raise AssertionError(f"{spec.name}/{signature}: {count} case(s), need at least 2")
        check_batch_coverage(spec, signature, function.structured_input_signature[1], cases)
    return recorded


def generate_model(spec, model_root):
    keras.utils.set_random_seed(SEED)
    rng = np.random.default_rng(SEED)
    export_dir = model_root / "model"
    cases = spec.build(export_dir, rng)
    size = directory_bytes(export_dir)
    if size > spec.max_bytes:
        raise AssertionError(f"{spec.name}: SavedModel is {size} bytes (> {spec.max_bytes})")
    document = {
        "model": spec.name,
        "tags": ["serve"],
        "rtol": spec.rtol,
        "atol": spec.atol,
        "stateful": spec.stateful,
        "cases": record(spec, export_dir, cases),
    }
    (model_root / "cases.json").write_text(json.dumps(document, separators=(",", ":")) + "\n")
    return size, len(cases)


def generate_corpus(out_dir):
    names = [spec.name for spec in MODELS]
    if len(set(names)) != len(names):
        raise AssertionError("duplicate model names")
    started = time.monotonic()
    for spec in MODELS:
        t0 = time.monotonic()
        size, count = generate_model(spec, out_dir / spec.name)
        print(f"  {spec.name:24s} {count:3d} cases {size / 1024:8.1f} KiB {time.monotonic() - t0:6.1f}s",
              file=sys.stderr, flush=True)
    manifest = {
        "tensorflow_version": tf.__version__,
        "generator_sha256": hashlib.sha256(Path(__file__).read_bytes()).hexdigest(),
        "models": [
            {"name": s.name, "description": s.description, "kind": s.kind, "features": s.features}
            for s in MODELS
        ],
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"generated {len(MODELS)} models in {time.monotonic() - started:.1f}s", file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, type=Path, help="corpus directory to create (replaced if present)")
    parser.add_argument("--only", default="", help="comma-separated model names (while developing a builder)")
    args = parser.parse_args()
    if args.only:
        wanted = set(args.only.split(","))
        MODELS[:] = [spec for spec in MODELS if spec.name in wanted]
    out = args.out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        print(f"generating corpus in {staging}", file=sys.stderr)
        generate_corpus(staging)
        if out.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            out.rename(retired / out.name)
            shutil.rmtree(retired)
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    print(f"corpus written to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
