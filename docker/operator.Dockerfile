# syntax=docker/dockerfile:1
# tfmodel-operator: reconciles TFModel resources. Build from the repository root:
#   docker build -f docker/operator.Dockerfile -t ghcr.io/tfmodel/tfmodel-operator:0.1.0 .
# Serves /metrics, /healthz and /readyz on 8080 (--http-address). Runs as uid 65532 with a
# read-only root filesystem (the chart mounts an emptyDir at /tmp).

ARG NODE_IMAGE=node:20-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs20-debian12:nonroot

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
