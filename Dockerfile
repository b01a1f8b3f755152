# litepaste: LogPaste's paste service with SQLite replication to S3 built into the server.
#   docker build -t litepaste .
#   docker run -p 3001:3001 -v litepaste-data:/app/data litepaste
# What the image holds, its size and every setting: docs/deployment/docker.md.

# Node's current LTS line. better-sqlite3 12.11 supports Node 20 to 26.
ARG NODE_MAJOR=24

# TypeScript → dist/. Install scripts are skipped: the compiler needs no native addon.
FROM node:${NODE_MAJOR}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY server ./server
COPY replication ./replication
COPY internal ./internal
COPY testkit ./testkit
RUN npm run build && find dist \( -name "*.test.js" -o -name "*.test.js.map" \) -delete

# Production dependencies only. better-sqlite3 compiles its native addon here when no
# prebuilt binary matches; of its build only the addon itself is needed at run time (the
# SQLite sources and object files are ~25 MB).
FROM node:${NODE_MAJOR}-bookworm-slim AS prod-deps
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts=false --no-audit --no-fund \
  && mv node_modules/better-sqlite3/build/Release/better_sqlite3.node . \
  && rm -rf node_modules/better-sqlite3/build node_modules/better-sqlite3/deps node_modules/better-sqlite3/src \
  && mkdir -p node_modules/better-sqlite3/build/Release \
  && mv better_sqlite3.node node_modules/better-sqlite3/build/Release/ \
  && node -e "require('better-sqlite3')(':memory:').close()"

FROM node:${NODE_MAJOR}-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist/server ./dist/server
COPY --from=build /app/dist/replication ./dist/replication
COPY --from=build /app/dist/internal ./dist/internal
COPY package.json ./
COPY web ./web
COPY docker_entrypoint ./
# The database lives in /app/data: mount a volume there to keep it across containers.
# Owned by "node" (uid 1000, from the base image); group root and g+w for platforms that
# run images under an arbitrary uid in group 0. `litepaste` on the PATH is the entry point,
# for the replica commands in a shell (litepaste snapshots s3://…).
RUN install -d -o node -g root -m 0775 /app/data \
  && ln -s /app/docker_entrypoint /usr/local/bin/litepaste
USER node
EXPOSE 3001
# Node itself (slim images have no curl). Restoring a large replica at start can take a
# while: failures during the start period do not count.
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3001) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The server stops accepting, finishes requests, flushes the WAL to the replica, exits 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/app/docker_entrypoint"]
# No default arguments (the base image's CMD ["node"] must not reach the entry point).
CMD []
