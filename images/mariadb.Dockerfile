# The mysqld image for MariaDB 10.11 (Debian's packages): mariadbd, the client, mariadb-backup and mbstream.
# No Node: the operator's mysqld container only runs mysqld (through a shell script the init container shares);
# images/README.md has the contract a mysqld image must meet. Runs as uid/gid 10000, as the Pods do.
ARG BASE=docker.io/library/debian:bookworm-slim
FROM ${BASE}
# The mysql account gets uid 10000 before the package would create one with a random system uid.
# policy-rc.d: the packages' scripts must not try to start a server during the build.
RUN groupadd --gid 10000 mysql \
    && useradd --uid 10000 --gid 10000 --home-dir /var/lib/mysql --no-create-home --shell /usr/sbin/nologin mysql \
    && if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d \
         && chmod 755 /usr/sbin/policy-rc.d && touch /tmp/.moco-policy-rc; fi \
    && apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
         mariadb-server mariadb-client mariadb-backup \
    && if [ -e /tmp/.moco-policy-rc ]; then rm -f /usr/sbin/policy-rc.d /tmp/.moco-policy-rc; fi \
    && rm -rf /var/lib/apt/lists/* /var/lib/mysql/* \
    && mkdir -p /var/lib/mysql /run/mysqld /var/log/mysql /etc/mysql-conf.d \
    && chown 10000:10000 /var/lib/mysql /run/mysqld /var/log/mysql /etc/mysql-conf.d \
    && mariadbd --version
USER 10000:10000
EXPOSE 3306
CMD ["mariadbd"]
