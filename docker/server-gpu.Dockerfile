# syntax=docker/dockerfile:1
# tfmodel-server, GPU image: the native engine (our Node-API addon over TensorFlow's C API) built
# against TensorFlow 2.21's CUDA build, so --runtime=tensorflow (the operator's default for TFModels
# with spec.gpu) runs SavedModels in a TensorFlow session on the GPU and
# --per_process_gpu_memory_fraction caps TensorFlow's GPU allocator (session ConfigProto
# gpu_options, as in TF Serving).
# Build from the repository root (needs the package registries: npm, and Python wheels):
#   docker build -f docker/server-gpu.Dockerfile -t ghcr.io/tfmodel/tfmodel-server-gpu:0.1.0 .
#
# Versions: the `tensorflow` wheel at the pin of test/corpus/requirements.txt (TF_VERSION) with
# its `and-cuda` extra: nvidia-cublas/cuda-runtime/cudnn (9.x)/cufft/curand/cusolver/cusparse/
# nccl/nvjitlink-cu12 (CUDA 12). No CUDA base image: the CUDA libraries come from those wheels,
# found through libtensorflow's RUNPATH $ORIGIN/../nvidia/*/lib, i.e. native/nvidia beside
# native/lib. The driver (libcuda.so.1) comes from the node (NVIDIA container toolkit); nodes need
# a driver for CUDA >= 12.5 (>= 555). Hopper (H100/H200) is supported by TF 2.21's CUDA 12 build.

ARG NODE_IMAGE=node:20-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim
ARG TF_VERSION=2.21.0

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# The native engine: tensorflow[and-cuda] in a throw-away venv, then the addon compiled with g++
# against its C API; install.sh copies libtensorflow beside the addon, and the nvidia wheels' lib
# directories are copied to where libtensorflow's RUNPATH looks.
FROM ${NODE_IMAGE} AS native
ARG TF_VERSION
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv g++ \
 && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check "tensorflow[and-cuda]==${TF_VERSION}"
WORKDIR /src
COPY native ./native
COPY scripts/native ./scripts/native
COPY test/corpus/requirements.txt ./test/corpus/requirements.txt
RUN site="$(/opt/venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" \
 && out="$(TFMODEL_CACHE_DIR=/opt/build TFMODEL_TF_DIR="$site/tensorflow" npm_config_nodedir=/usr/local bash scripts/native/install.sh gpu | tail -n1)" \
 && mkdir -p /opt/native \
 && cp -a "$out/tfmodel_tf.node" "$out/lib" /opt/native/ \
 && mkdir -p /opt/native/nvidia \
 && for d in "$site"/nvidia/*/; do mkdir -p "/opt/native/nvidia/$(basename "$d")" && cp -a "$d/lib" "/opt/native/nvidia/$(basename "$d")/"; done \
 && readelf -d /opt/native/lib/libtensorflow_cc.so.2 | grep -q 'ORIGIN/../nvidia' \
 && ls /opt/native/nvidia/cudnn/lib/libcudnn.so.9 /opt/native/nvidia/cublas/lib/libcublas.so.12

FROM ${RUNTIME_IMAGE}
# libstdc++ for libtensorflow and the addon; Node 20 from the official image (a self-contained
# binary). No npm, Python or compiler at run time.
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libstdc++6 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /usr/local/bin/node /usr/local/bin/node
WORKDIR /app
ENV NODE_ENV=production \
    TFMODEL_NATIVE_ADDON=/opt/tfmodel/native/tfmodel_tf.node \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility
COPY --from=native /opt/native /opt/tfmodel/native
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/dist/src ./dist/src
# The server writes nothing to disk; no user account is needed for a numeric uid.
USER 65532:65532
EXPOSE 8500 8501
ENTRYPOINT ["/usr/local/bin/node", "/app/dist/src/server/main.js", "--runtime=tensorflow"]
