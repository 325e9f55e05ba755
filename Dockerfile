# The SMTP front (src/front/main.ts) as a container image.
#   build: docker build -t sigrelay-front .        (or in Azure: az acr build --image sigrelay-front:<tag> .)
#   run:   see docs/front-door.md ("Container image")

# The Node release the tests run on: package.json pins the same one (devDependencies.node), and
# test/unit/runtime-pin.test.ts fails when the two drift apart.
ARG NODE_VERSION=22.23.3

# --- build: all dependencies, compile TypeScript ---------------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json ./
COPY src ./src
# The repository's tsconfig also covers functions/, test/ and bench/; the front needs src/ only.
RUN echo '{ "extends": "./tsconfig.json", "include": ["src"] }' > tsconfig.front.json \
  && npx tsc -p tsconfig.front.json

# --- production dependencies only ------------------------------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

# --- runtime: non-root, compiled front only --------------------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim
# Port 25 is privileged; the capability goes to the node binary so the process itself can stay
# non-root (Container Apps does not let us set net.ipv4.ip_unprivileged_port_start).
RUN apt-get update \
  && apt-get install -y --no-install-recommends libcap2-bin \
  && setcap cap_net_bind_service=+ep /usr/local/bin/node \
  && apt-get purge -y libcap2-bin && apt-get autoremove -y && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    SIGRELAY_PROFILE=production \
    SIGRELAY_SMTP_HOST=0.0.0.0 \
    SIGRELAY_SMTP_PORT=25 \
    SIGRELAY_HEALTH_PORT=8080
WORKDIR /app
COPY --from=deps --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist/src ./dist/src
COPY --chown=root:root package.json ./
USER node
EXPOSE 25 8080
# SIGTERM drains: no new connections, transactions in flight finish, /readyz turns 503 meanwhile.
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/front/main.js"]
