# The agent image: moco-agent bundled by esbuild, with the MariaDB backup tools a MariaDB clone needs on the
# donor and recipient side. The mysqld container uses the MySQL or MariaDB image with the command
#   moco-agent run-mysqld --data-dir /var/lib/mysql/data -- mysqld --defaults-file=/etc/mysql/my.cnf
# (the binary is shared through an emptyDir, as the seed system shares moco-init).
# Not built in CI: the development machines have no Docker engine.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY . .
RUN bash scripts/build.sh

FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends mariadb-backup mariadb-client \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /moco
COPY --from=build /src/dist /moco/dist
COPY --from=build /src/proto /moco/proto
USER 10000:10000
# The node flags are AGENT_NODE_FLAGS (src/agent/config.ts); a unit test keeps them the same.
ENTRYPOINT ["node", "--max-semi-space-size=1", "/moco/dist/moco-agent.mjs"]
CMD ["serve"]
