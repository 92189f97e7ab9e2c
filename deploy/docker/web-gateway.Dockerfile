# syntax=docker/dockerfile:1
# mailroute web-gateway: the web console and its gRPC-web bridge. Build from the repository root:
#   docker build -f deploy/docker/web-gateway.Dockerfile -t <registry>/mailroute/web-gateway:<version> .
# The services' recipe (deploy/README.md) plus one stage that builds the console with Vite;
# deploy/test/dockerfiles.spec.ts checks this file.

# 1. build: bundle the gateway's TypeScript and the workspace libs with esbuild, with its pruned package.json + lock.
FROM node:24.21.0-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.base.json ./
RUN ESBUILD_VERSION="$(node -p "require('./package-lock.json').packages['node_modules/esbuild'].version")" \
 && npm install --prefix /opt/esbuild --no-save --no-audit --no-fund "esbuild@${ESBUILD_VERSION}" \
 && ln -s /opt/esbuild/node_modules /src/node_modules
COPY tools/build/ tools/build/
COPY libs/ libs/
COPY apps/web-gateway/ apps/web-gateway/
RUN node tools/build/build-service.mjs web-gateway

# 2. console: the web console's static files, built offline from the locked npm packages (Vite).
FROM node:24.21.0-bookworm-slim AS console
WORKDIR /src
COPY package.json package-lock.json tsconfig.base.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY libs/contracts/ libs/contracts/
COPY apps/web-console/ apps/web-console/
RUN node node_modules/vite/bin/vite.js build --config apps/web-console/vite.config.mts --logLevel warn

# 3. deps: the gateway's production packages only, exactly as the pruned lock file says.
FROM node:24.21.0-bookworm-slim AS deps
WORKDIR /app
COPY --from=build /src/dist/apps/web-gateway/package.json /src/dist/apps/web-gateway/package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# 4. runtime: node, the bundle, its node_modules and the console, owned by root and read-only to
#    the service's user.
FROM node:24.21.0-bookworm-slim AS runtime
ENV NODE_ENV=production WEB_GATEWAY_HOST=0.0.0.0 WEB_GATEWAY_PORT=8080 WEB_GATEWAY_ASSETS_DIR=/app/console
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /opt/yarn-* /usr/local/bin/yarn /usr/local/bin/yarnpkg
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist/apps/web-gateway/ ./
COPY --from=console /src/dist/apps/web-console/ ./console/
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["node", "main.js"]
