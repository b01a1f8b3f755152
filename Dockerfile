# litepaste: LogPaste's paste service with SQLite replication to S3 built into the server.
#   docker build -t litepaste .
#   docker run -p 3001:3001 -v litepaste-data:/app/data litepaste
# What the image holds, its size and every setting: docs/deployment/docker.md.

# Node 24, the active LTS line, on Debian 13 (trixie), Node's default image variant since
# Debian 12's security support ended. better-sqlite3 12.11 supports Node 20 to 26.
ARG NODE_MAJOR=24

# TypeScript → dist/. Install scripts are skipped: the compiler needs no native addon.
FROM node:${NODE_MAJOR}-trixie-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY cli ./cli
COPY server ./server
COPY replication ./replication
COPY internal ./internal
COPY testkit ./testkit
RUN npm run build && find dist \( -name "*.test.js" -o -name "*.test.js.map" \) -delete

# Production dependencies only, with no dependency's install script run, then the one
# install script the server needs: better-sqlite3's, which fetches or compiles its native
# addon. Of its build only the addon itself is needed at run time (the SQLite sources and
# object files are ~25 MB).
FROM node:${NODE_MAJOR}-trixie-slim AS prod-deps
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
  && npm rebuild better-sqlite3 \
  && mv node_modules/better-sqlite3/build/Release/better_sqlite3.node . \
  && rm -rf node_modules/better-sqlite3/build node_modules/better-sqlite3/deps node_modules/better-sqlite3/src \
  && mkdir -p node_modules/better-sqlite3/build/Release \
  && mv better_sqlite3.node node_modules/better-sqlite3/build/Release/ \
  && node -e "require('better-sqlite3')(':memory:').close()"

FROM node:${NODE_MAJOR}-trixie-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist/cli ./dist/cli
COPY --from=build /app/dist/server ./dist/server
COPY --from=build /app/dist/replication ./dist/replication
COPY --from=build /app/dist/internal ./dist/internal
COPY package.json ./
COPY web ./web
COPY docker_entrypoint ./
# The database lives in /app/data: mount a volume there to keep it across containers.
# Owned by "node" (uid 1000, from the base image), and writable by any uid (sticky, like
# /tmp) because not every platform runs the image as its USER: Heroku does not say it
# honours USER, OpenShift picks an arbitrary uid. A new named volume copies this mode.
# `litepaste` on the PATH is the entry point, for the replica commands in a shell
# (litepaste snapshots s3://…) and for the default command below. LogPaste's entry point
# was /app/docker-entrypoint in its early images and /app/docker_entrypoint later: platform
# files written for either keep working.
RUN install -d -o node -g root -m 1777 /app/data \
  && ln -s /app/docker_entrypoint /usr/local/bin/litepaste \
  && ln -s docker_entrypoint /app/docker-entrypoint
USER node
EXPOSE 3001
# Node itself (slim images have no curl). Restoring a large replica at start can take a
# while: failures during the start period do not count.
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3001) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The server stops accepting, finishes requests, flushes the WAL to the replica, exits 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/app/docker_entrypoint"]
# A command of its own, for platforms that run the image's CMD rather than its ENTRYPOINT
# (Heroku without `run:` in heroku.yml reports "No command specified" for an empty one).
# The entry point takes `litepaste …` as itself: `docker run IMAGE` serves, and
# `docker run IMAGE -title X` or `docker run IMAGE snapshots URL` replace it as before.
CMD ["litepaste"]
