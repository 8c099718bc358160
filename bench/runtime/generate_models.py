"""Real-size benchmark SavedModels made by TensorFlow: keras.applications ResNet50, MobileNetV2 and
EfficientNetB0 at 128x128x3, random weights (weights=None: nothing is downloaded), exported the way
Keras 3 users export for TF Serving (model.export). Run by bench/runtime/ensure-models.sh with the
project's venv; the output directory is cached by the hash of this file and the pins.

    python generate_models.py --out DIR

DIR/<name>/model is the SavedModel; DIR/manifest.json lists the models with their signature input.
"""
import argparse
import json
import os
import shutil
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

SIZE = 128
MODELS = {
    "resnet50": keras.applications.ResNet50,
    "mobilenet_v2": keras.applications.MobileNetV2,
    "efficientnet_b0": keras.applications.EfficientNetB0,
}


def export(name, factory, out_dir):
    keras.utils.set_random_seed(0)
    images = keras.Input(shape=(SIZE, SIZE, 3), name="images")
    model = factory(weights=None, input_tensor=images, classes=1000)
    target = os.path.join(out_dir, name, "model")
    model.export(target, format="tf_saved_model", verbose=False)
    loaded = tf.saved_model.load(target)
    signature = loaded.signatures["serving_default"]
    (alias, spec), = signature.structured_input_signature[1].items()
    print(f"generate_models: {name}: {model.count_params()} parameters, input {alias} {spec.shape}", file=sys.stderr)
    return {"name": name, "input": alias, "exampleShape": [SIZE, SIZE, 3], "parameters": int(model.count_params())}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    partial = args.out + ".partial"
    shutil.rmtree(partial, ignore_errors=True)
    os.makedirs(partial)
    entries = [export(name, factory, partial) for name, factory in MODELS.items()]
    manifest = {"tensorflow_version": tf.__version__, "keras_version": keras.__version__, "models": entries}
    with open(os.path.join(partial, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    shutil.rmtree(args.out, ignore_errors=True)
    os.rename(partial, args.out)


if __name__ == "__main__":
    main()
