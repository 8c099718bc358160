# syntax=docker/dockerfile:1
# tfmodel-server, CPU image: the tfjs engines (wasm by default, cpu), no native TensorFlow.
# Build from the repository root:
#   docker build -f docker/server.Dockerfile -t ghcr.io/tfmodel/tfmodel-server:0.1.0 .
# Listens on 8500 (gRPC) and 8501 (REST) when started with --port=8500 --rest_api_port=8501, as
# the operator does; takes tensorflow_model_server's flags and MODEL_NAME / MODEL_BASE_PATH.

ARG NODE_IMAGE=node:20-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs20-debian12:nonroot

# Compile TypeScript with every dependency (dev ones included). npm 10 can exit 0 after every
# fetch failed ("Exit handler never called!"), so each npm step is followed by `npm ls`, which
# fails naming what is missing, and a check that the tool the next step runs exists.
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund && npm ls --all >/dev/null && test -x node_modules/.bin/tsc
# The context holds exactly what tsconfig.build.json compiles (.dockerignore is an allow-list).
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json \
 && cp src/server/runtime/graph/op-defs.json dist/src/server/runtime/graph/ \
 && test -f dist/src/server/main.js

# Production dependencies, less the operator's Kubernetes client (@kubernetes/client-node and
# what only it needs, ~70 MB): the server never loads it.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm ls --omit=dev --all >/dev/null \
 && npm uninstall --no-save --omit=dev --no-audit --no-fund @kubernetes/client-node \
 && test ! -e node_modules/@kubernetes/client-node \
 && test -f node_modules/@tensorflow/tfjs-backend-wasm/package.json \
 && npm cache clean --force

# Distroless: Node and glibc only, no shell, no package manager; uid 65532 ("nonroot").
FROM ${RUNTIME_IMAGE}
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/dist/src ./dist/src
USER 65532:65532
EXPOSE 8500 8501
# The tfmodel-server bin (package.json "bin"); the image's node runs it.
ENTRYPOINT ["/nodejs/bin/node", "/app/dist/src/server/main.js"]
