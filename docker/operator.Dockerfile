# syntax=docker/dockerfile:1
# tfmodel-operator: reconciles TFModel resources. Build from the repository root:
#   docker build -f docker/operator.Dockerfile -t ghcr.io/tfmodel/tfmodel-operator:0.1.0 .
# Serves /metrics, /healthz and /readyz on 8080 (--http-address). Runs as uid 65532 with a
# read-only root filesystem (the chart mounts an emptyDir at /tmp).

ARG NODE_IMAGE=node:20-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs20-debian12:nonroot

# npm 10 can exit 0 after every fetch failed ("Exit handler never called!"): each npm step is
# followed by `npm ls` (fails naming what is missing) and a check of what the next step runs.
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund && npm ls --all >/dev/null && test -x node_modules/.bin/tsc
# The context holds exactly what tsconfig.build.json compiles (.dockerignore is an allow-list).
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json && test -f dist/src/operator/main.js

# Production dependencies less the serving runtime's (tfjs, OpenTelemetry, express: ~120 MB), which
# the operator never loads (test/images/context.test.ts walks its imports to keep this true).
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm ls --omit=dev --all >/dev/null \
 && npm uninstall --no-save --omit=dev --no-audit --no-fund \
      @tensorflow/tfjs-core @tensorflow/tfjs-converter @tensorflow/tfjs-backend-cpu @tensorflow/tfjs-backend-wasm \
      @opentelemetry/api @opentelemetry/core @opentelemetry/exporter-trace-otlp-grpc @opentelemetry/exporter-trace-otlp-proto \
      @opentelemetry/resources @opentelemetry/sdk-trace-base @opentelemetry/semantic-conventions express \
 && test ! -e node_modules/@tensorflow/tfjs-core \
 && test -f node_modules/@kubernetes/client-node/package.json \
 && npm cache clean --force

FROM ${RUNTIME_IMAGE}
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/package.json ./package.json
# The operator imports shared code (src/common, the generated types in src/gen) and nothing of
# the serving runtime at run time; dist/src holds all of it.
COPY --from=build /src/dist/src ./dist/src
USER 65532:65532
EXPOSE 8080
# The tfmodel-operator bin.
ENTRYPOINT ["/nodejs/bin/node", "/app/dist/src/operator/main.js"]
