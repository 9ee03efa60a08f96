#!/usr/bin/env bash
# A private PostgreSQL server for the tests: a cluster under target/pg (as root: in /tmp, the
# postgres user's; initdb, C locale,
# UTF-8), listening on a Unix socket in that folder only (no TCP), started if it is not
# running. Prints the URL the tests take as FLSPOST_TEST_PG (each test world makes its own
# database there). `scripts/pg-test-server.sh stop` stops it.
#
# PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres` user
# that Debian's package creates.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(ls -d /usr/lib/postgresql/*/bin 2> /dev/null | sort -V | tail -1)
if [ -z "$bin" ]; then
  echo "pg-test-server: no PostgreSQL server (Debian's postgresql package; scripts/test-deps.sh installs it)" >&2
  exit 1
fi
port=55432
if [ "$(id -u)" -eq 0 ]; then
  # As root the cluster is the postgres user's, which may not reach into this checkout (under
  # /root, say): a folder of its own in /tmp, one per checkout.
  dir=/tmp/flspost-test-pg-$(pwd | cksum | cut -d' ' -f1)
  as() { runuser -u postgres -- "$@"; }
else
  dir=$(pwd)/target/pg
  as() { "$@"; }
fi
if [ "${1:-}" = stop ]; then
  [ -d "$dir/data" ] && as "$bin/pg_ctl" -D "$dir/data" -m fast stop > /dev/null 2>&1 || true
  exit 0
fi
if [ ! -d "$dir" ]; then
  mkdir -p "$dir"
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; fi
  chmod 700 "$dir"
fi
if [ -L "$dir" ] || [ "$(stat -c %U "$dir")" != "$(if [ "$(id -u)" -eq 0 ]; then echo postgres; else id -un; fi)" ]; then
  echo "pg-test-server: $dir is not this test server's folder; remove it" >&2
  exit 1
fi
if [ ! -f "$dir/data/PG_VERSION" ]; then
  as "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --locale=C --encoding=UTF8 > "$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
fi
if ! as "$bin/pg_ctl" -D "$dir/data" status > /dev/null 2>&1; then
  # fsync stays on: the durability promise is tested on this server too.
  as "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses='' -c unix_socket_directories='$dir' -p $port -c max_connections=200 -c shared_buffers=64MB" \
    start > /dev/null || { tail -20 "$dir/server.log" >&2; exit 1; }
fi
# The tests connect as `postgres` over the socket (trust: only this folder's owner reaches it).
echo "postgresql:///postgres?host=$dir&port=$port&user=postgres"
