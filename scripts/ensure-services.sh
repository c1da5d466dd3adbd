#!/usr/bin/env bash
# Makes sure the test dependencies run on 127.0.0.1: PostgreSQL :5432 and Redis :6379.
# On a machine that has them this does nothing; on a fresh Debian machine it installs them
# (apt) and starts them. Chromium (for the Swagger UI browser test) is installed when missing.
set -euo pipefail

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else echo "need root for: $*" >&2; return 1; fi; }
apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}
wait_for() { for _ in $(seq 1 60); do listening "$1" && return 0; sleep 0.5; done; echo "port $1 did not open" >&2; return 1; }

if ! listening 5432; then
  echo "[services] PostgreSQL is not listening on 127.0.0.1:5432; starting it"
  command -v pg_ctlcluster >/dev/null || apt_install postgresql
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  wait_for 5432
  # The tests connect over TCP as postgres/postgres; this works with trust and with password auth.
  as_root runuser -u postgres -- psql -qc "ALTER USER postgres PASSWORD 'postgres'" >/dev/null
fi

if ! listening 6379; then
  echo "[services] Redis is not listening on 127.0.0.1:6379; starting it"
  command -v redis-server >/dev/null || apt_install redis-server
  mkdir -p /tmp/redis-test
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no --dir /tmp/redis-test --logfile /tmp/redis-test/redis.log
  wait_for 6379
fi

# The Postgres server binaries (initdb, postgres) are needed by the resilience tests, which run
# their own disposable server.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then apt_install postgresql; fi

# Redis Cluster / Sentinel and PgBouncer topologies (test/support/topologies.ts): Debian's packages.
topology_packages=()
command -v redis-cli >/dev/null || topology_packages+=(redis-tools)
command -v redis-sentinel >/dev/null || topology_packages+=(redis-sentinel)
command -v pgbouncer >/dev/null || [ -x /usr/sbin/pgbouncer ] || topology_packages+=(pgbouncer)
if [ "${#topology_packages[@]}" -gt 0 ]; then
  echo "[services] installing ${topology_packages[*]} for the topology tests"
  apt_install "${topology_packages[@]}"
  # The packages enable system services (pgbouncer :6432, redis-sentinel :26379); the tests run
  # their own on free ports.
  if [ -d /run/systemd/system ]; then as_root systemctl disable --now pgbouncer redis-sentinel >/dev/null 2>&1 || true; fi
fi

# oathtool (an independent TOTP implementation) computes the codes of the tenant-policy test.
command -v oathtool >/dev/null || apt_install oathtool || echo "[services] oathtool could not be installed; the policy test will fail" >&2

if [ "${SKIP_BROWSER_TESTS:-}" != "1" ] && ! command -v chromium >/dev/null; then
  echo "[services] installing Chromium for the Swagger UI browser test"
  apt_install chromium || echo "[services] Chromium could not be installed; the browser test will fail" >&2
fi
echo "[services] PostgreSQL and Redis are up"
