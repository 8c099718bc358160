# syntax=docker/dockerfile:1
# tfmodel-server, CPU image: the tfjs engines (wasm by default, cpu), no native TensorFlow.
# Build from the repository root:
#   docker build -f docker/server.Dockerfile -t ghcr.io/tfmodel/tfmodel-server:0.1.0 .
# Listens on 8500 (gRPC) and 8501 (REST) when started with --port=8500 --rest_api_port=8501, as
# the operator does; takes tensorflow_model_server's flags and MODEL_NAME / MODEL_BASE_PATH.

ARG NODE_IMAGE=node:20-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs20-debian12:nonroot

# Compile TypeScript with every dependency (dev ones included).
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# Production dependencies only.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

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
