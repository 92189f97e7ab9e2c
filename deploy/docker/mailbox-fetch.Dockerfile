# syntax=docker/dockerfile:1
# mailroute mailbox-fetch. Build from the repository root (the context), with any standard builder:
#   docker build -f deploy/docker/mailbox-fetch.Dockerfile -t <registry>/mailroute/mailbox-fetch:<version> .
# deploy/README.md explains the stages; deploy/test/dockerfiles.spec.ts checks this file.

# 1. build: bundle the service's TypeScript and the workspace libs with esbuild (the only tool the
#    build needs, at the version the lock file pins) and write its pruned package.json + lock.
FROM node:24.21.0-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.base.json ./
RUN ESBUILD_VERSION="$(node -p "require('./package-lock.json').packages['node_modules/esbuild'].version")" \
 && npm install --prefix /opt/esbuild --no-save --no-audit --no-fund "esbuild@${ESBUILD_VERSION}" \
 && ln -s /opt/esbuild/node_modules /src/node_modules
COPY tools/build/ tools/build/
COPY libs/ libs/
COPY apps/mailbox-fetch/ apps/mailbox-fetch/
RUN node tools/build/build-service.mjs mailbox-fetch

# 2. deps: the service's production packages only, exactly as the pruned lock file says.
FROM node:24.21.0-bookworm-slim AS deps
WORKDIR /app
COPY --from=build /src/dist/apps/mailbox-fetch/package.json /src/dist/apps/mailbox-fetch/package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# 3. runtime: node, the bundle and its node_modules, owned by root and read-only to the service's
#    user; nothing is written outside /tmp, so the root filesystem can be mounted read-only.
FROM node:24.21.0-bookworm-slim AS runtime
ENV NODE_ENV=production GRPC_HOST=0.0.0.0 GRPC_PORT=50052
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /opt/yarn-* /usr/local/bin/yarn /usr/local/bin/yarnpkg
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist/apps/mailbox-fetch/ ./
USER 10001:10001
EXPOSE 50052
ENTRYPOINT ["node", "main.js"]
