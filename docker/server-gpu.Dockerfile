# syntax=docker/dockerfile:1
# tfmodel-server, GPU image: the native engine (our Node-API addon over TensorFlow's C API,
# src/server/runtime/native/addon) built against TensorFlow 2.21's CUDA build, so --runtime=tensorflow
# (the operator's default for TFModels with spec.gpu) runs SavedModels in a TensorFlow session on
# the GPU and --per_process_gpu_memory_fraction caps TensorFlow's GPU allocator (the session
# ConfigProto's gpu_options, as TF Serving sets it).
# Build from the repository root (needs the npm registry and Python wheels):
#   docker build -f docker/server-gpu.Dockerfile -t ghcr.io/tfmodel/tfmodel-server-gpu:0.1.0 .
#
# Versions: the `tensorflow` wheel at TF_VERSION (keep it at test/corpus/requirements.txt's
# tensorflow-cpu pin) with its `and-cuda` extra: nvidia-cublas/cuda-runtime/cudnn (9.x)/cufft/
# curand/cusolver/cusparse/nccl/nvjitlink-cu12 (CUDA 12). No CUDA base image: the CUDA libraries
# come from those wheels and are found through libtensorflow's RUNPATH $ORIGIN/../nvidia/*/lib,
# i.e. /opt/tfmodel/native/nvidia beside /opt/tfmodel/native/lib. The driver (libcuda.so.1) comes
# from the node (NVIDIA container toolkit); nodes need a driver for CUDA >= 12.5 (>= 555). TF
# 2.21's CUDA 12 build covers Hopper-class GPUs (H100/H200).

ARG NODE_IMAGE=node:20-bookworm
ARG RUNTIME_IMAGE=node:20-bookworm-slim
ARG TF_VERSION=2.21.0

# npm 10 can exit 0 after every fetch failed ("Exit handler never called!"): each npm step is
# followed by `npm ls` (fails naming what is missing) and a check of what the next step runs.
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund && npm ls --all >/dev/null && test -x node_modules/.bin/tsc
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json \
 && cp src/server/runtime/graph/op-defs.json dist/src/server/runtime/graph/ \
 && test -f dist/src/server/main.js

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm ls --omit=dev --all >/dev/null \
 && npm uninstall --no-save --omit=dev --no-audit --no-fund @kubernetes/client-node \
 && npm cache clean --force

# The native engine, as scripts/native/install.sh builds it: tensorflow[and-cuda] in a throw-away
# venv; its two libtensorflow libraries copied beside the addon, compiled with g++ against its C
# API headers; the nvidia wheels' lib/ directories copied to where libtensorflow's RUNPATH looks.
FROM ${NODE_IMAGE} AS native
ARG TF_VERSION
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv g++ \
 && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check "tensorflow[and-cuda]==${TF_VERSION}"
# Node-API's headers from the node-api-headers package (the Node.js project's own), so the addon
# builds on any Node 20 base, with or without the headers a full Node install carries.
ARG NODE_API_HEADERS_VERSION=1.9.0
RUN mkdir -p /opt/node-api && cd /opt/node-api \
 && npm pack --silent "node-api-headers@${NODE_API_HEADERS_VERSION}" >/dev/null \
 && tar -xzf "node-api-headers-${NODE_API_HEADERS_VERSION}.tgz" \
 && test -f package/include/node_api.h
COPY src/server/runtime/native/addon /src/addon
RUN set -e; \
    site="$(/opt/venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"; \
    out=/opt/tfmodel/native; mkdir -p "$out/lib"; \
    cp "$site/tensorflow/libtensorflow_cc.so.2" "$site/tensorflow/libtensorflow_framework.so.2" "$out/lib/"; \
    ln -s libtensorflow_cc.so.2 "$out/lib/libtensorflow_cc.so"; \
    ln -s libtensorflow_framework.so.2 "$out/lib/libtensorflow_framework.so"; \
    flags="-std=c++17 -O2 -fPIC -fvisibility=hidden -w -DNAPI_VERSION=8 -I/opt/node-api/package/include -I$site/tensorflow/include"; \
    g++ $flags -c /src/addon/addon.cc -o /tmp/addon.o; \
    g++ $flags -c /src/addon/options-view.cc -o /tmp/options-view.o; \
    g++ -shared -o "$out/tfmodel_tf.node" /tmp/addon.o /tmp/options-view.o -L"$out/lib" -ltensorflow_cc -ltensorflow_framework -Wl,-rpath,'$ORIGIN/lib'; \
    rm "$out/lib/libtensorflow_cc.so" "$out/lib/libtensorflow_framework.so"; \
    for d in "$site"/nvidia/*/; do \
      if [ -d "$d/lib" ]; then mkdir -p "$out/nvidia/$(basename "$d")" && cp -a "$d/lib" "$out/nvidia/$(basename "$d")/"; fi; \
    done; \
    readelf -d "$out/lib/libtensorflow_cc.so.2" | grep -q 'ORIGIN/../nvidia'; \
    ls "$out"/nvidia/cudnn/lib/libcudnn.so.9 "$out"/nvidia/cublas/lib/libcublas.so.12 >/dev/null; \
    node -e "const a = require('$out/tfmodel_tf.node'); if (a.tensorflowVersion() !== '${TF_VERSION}') process.exit(1)"

FROM ${RUNTIME_IMAGE}
WORKDIR /app
# The device plugin sets NVIDIA_VISIBLE_DEVICES to the GPU (or slice) the pod was given.
ENV NODE_ENV=production \
    TFMODEL_NATIVE_ADDON=/opt/tfmodel/native/tfmodel_tf.node \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility
COPY --from=native /opt/tfmodel/native /opt/tfmodel/native
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/dist/src ./dist/src
# The server writes nothing to disk; no user account is needed for a numeric uid.
USER 65532:65532
EXPOSE 8500 8501
ENTRYPOINT ["/usr/local/bin/node", "/app/dist/src/server/main.js", "--runtime=tensorflow"]
