# slo-agent as a container: `docker build -t slo-agent .` then see docs/deployment.md.
#
# NODE_IMAGE is the base of both stages: a current Node.js LTS on Debian slim. CI builds with a
# local stand-in made by scripts/image/make-ci-base.sh (no registry there); see docs/deployment.md.
ARG NODE_IMAGE=node:22-bookworm-slim

# ---- build: compile TypeScript and better-sqlite3's native addon, then keep production deps only
FROM ${NODE_IMAGE} AS build
# better-sqlite3 is built from source against the image's own Node headers (no prebuilt binary is
# downloaded, so the build works offline and matches the runtime's ABI exactly).
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
# Behind a TLS-intercepting proxy, pass its CA for npm here (the file through a build-time volume);
# it stays in this stage and is never part of the image.
ARG NODE_EXTRA_CA_CERTS
ENV npm_config_update_notifier=false
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && npm_config_nodedir="$(dirname "$(dirname "$(command -v node)")")" \
    npm run build-release --prefix node_modules/better-sqlite3 \
 && node -e "new (require('better-sqlite3'))(':memory:').close()"
COPY tsconfig.json ./
COPY scripts/build.mjs ./scripts/
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && rm -rf node_modules/better-sqlite3/deps node_modules/better-sqlite3/src \
           node_modules/better-sqlite3/build/Release/obj* node_modules/better-sqlite3/build/Release/.deps

# ---- runtime: Node, the compiled agent, production dependencies; no compiler, no npm cache
FROM ${NODE_IMAGE}
ARG NODE_IMAGE
# The release version, package.json's (test/deploy/image-version.test.ts keeps them equal).
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="slo-agent" \
      org.opencontainers.image.description="Holds an API provider (Klarna) to its published SLA: probes, hash-chained evidence, Prometheus metrics, monthly reports." \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.documentation="docs/deployment.md" \
      org.opencontainers.image.base.name="${NODE_IMAGE}"

ENV NODE_ENV=production
# Two malloc arenas, not one per thread (src/cli/main.ts says why; the bin's shebang sets the same).
ENV MALLOC_ARENA_MAX=2
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY bundle ./bundle
# The shipped Klarna profile: used by `demo`, and by `run` unless /etc/slo-agent is mounted over.
COPY slo.yaml ./
COPY probes ./probes
COPY scenarios ./scenarios
COPY dashboards ./dashboards
COPY slo.yaml /etc/slo-agent/slo.yaml
COPY probes /etc/slo-agent/probes

# uid/gid 1000 is the official image's `node` user; numeric so that Kubernetes' runAsNonRoot can
# check it. The evidence store lives in /data (mount a volume: it is the SLA evidence).
RUN mkdir -p /data && chown 1000:1000 /data
VOLUME ["/data"]
USER 1000:1000

EXPOSE 9464
# No curl in a slim image: Node's own fetch. Assumes the default listen port.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9464/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# `run` stops on SIGTERM: it finishes in-flight probes, writes every buffered result, records the
# end of the run and closes the store (docker stop's default grace period of 10 s is ample).
STOPSIGNAL SIGTERM
# --optimize-for-size: V8 collects before its heap grows to several times what is live (~30 MB at
# 1,000 probes), for ~100 MB RSS at 1,000 probes instead of ~180 MB, at ~18% more CPU per probe
# (bench/bounds.md). Remove it where CPU matters more than memory.
ENTRYPOINT ["node", "--optimize-for-size", "/app/dist/cli/main.js"]
CMD ["run", "--config", "/etc/slo-agent/slo.yaml", "--data-dir", "/data", "--listen", "0.0.0.0:9464", "--log-format", "json"]
