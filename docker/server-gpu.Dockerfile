# syntax=docker/dockerfile:1
# tfmodel-server, GPU image: CUDA + cuDNN runtime and @tensorflow/tfjs-node-gpu, so that
# --runtime=tensorflow (the operator's default for TFModels with spec.gpu) runs SavedModels on
# libtensorflow with CUDA, and --per_process_gpu_memory_fraction caps its GPU memory.
# Build from the repository root (needs internet: tfjs-node-gpu's install downloads libtensorflow):
#   docker build -f docker/server-gpu.Dockerfile -t ghcr.io/tfmodel/tfmodel-server-gpu:0.1.0 .
#
# Versions: tfjs-node-gpu 4.22.0 (matching our @tensorflow/tfjs-core) binds libtensorflow 2.9.1,
# built for CUDA 11.2 and cuDNN 8.1; it runs on any CUDA 11.x runtime >= 11.2 with cuDNN 8 (the
# sonames libcudart.so.11.0, libcublas.so.11, libcudnn.so.8 stay the same across 11.x). Nodes
# need an NVIDIA driver >= 450.80.02 (>= 520 for CUDA 11.8's full feature set).

ARG NODE_IMAGE=node:20-bookworm
ARG CUDA_IMAGE=nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04
ARG TFJS_NODE_GPU_VERSION=4.22.0

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

# Production dependencies plus tfjs-node-gpu. Its install script downloads libtensorflow 2.9.1
# (GPU) into node_modules/@tensorflow/tfjs-node-gpu/deps/lib and fetches its native binding (or
# compiles it with the full node image's python3/make/g++). It is never a dependency in
# package.json: it cannot install without internet, and the CPU image does not need it.
FROM ${NODE_IMAGE} AS deps
ARG TFJS_NODE_GPU_VERSION
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm ls --omit=dev --all >/dev/null \
 && npm uninstall --no-save --omit=dev --no-audit --no-fund @kubernetes/client-node \
 && npm install --omit=dev --no-save --no-audit --no-fund "@tensorflow/tfjs-node-gpu@${TFJS_NODE_GPU_VERSION}" \
 && ls node_modules/@tensorflow/tfjs-node-gpu/deps/lib/libtensorflow.so* \
 && npm cache clean --force

FROM ${CUDA_IMAGE}
# Node 20 from the official image (a self-contained binary; Ubuntu 22.04's glibc is newer than
# it needs). No npm at run time.
COPY --from=build /usr/local/bin/node /usr/local/bin/node
WORKDIR /app
# NVIDIA_DRIVER_CAPABILITIES=compute,utility comes from the CUDA image; the device plugin sets
# NVIDIA_VISIBLE_DEVICES to the GPU (or slice) the pod was given.
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/dist/src ./dist/src
# The server writes nothing to disk; no user account is needed for a numeric uid.
USER 65532:65532
EXPOSE 8500 8501
ENTRYPOINT ["/usr/local/bin/node", "/app/dist/src/server/main.js"]
