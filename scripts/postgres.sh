#!/usr/bin/env bash
# Starts (installing it when missing) a project-local PostgreSQL cluster.
#
#   scripts/postgres.sh start NAME PORT   init if needed, start, print nothing else
#   scripts/postgres.sh stop NAME
#   scripts/postgres.sh dev-db PORT       create role and database "helpline" (password "helpline")
#
# Clusters live in ${HELPLINE_PG_ROOT:-/var/tmp/helpline-pg}/NAME, listen on
# 127.0.0.1 only and trust local connections: they are for development and
# tests, never for production. Databases are UTF-8 with the C.UTF-8 locale.
set -euo pipefail

root=${HELPLINE_PG_ROOT:-/var/tmp/helpline-pg}
cmd=${1:?usage: postgres.sh start|stop|dev-db ...}

pgbin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$d" ]; then
    echo "PostgreSQL server not found: installing it from Debian's packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    ${SUDO:-} apt-get update -qq >&2
    ${SUDO:-} apt-get install -y -qq postgresql >&2
    d=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  echo "$d"
}

# as_pg runs a command as the postgres user when we are root (initdb and
# postgres refuse to run as root).
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

case "$cmd" in
start)
  name=${2:?name}; port=${3:?port}
  bin=$(pgbin)
  dir=$root/$name
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    mkdir -p "$root"; chmod 755 "$root"
    [ -d "$dir" ] || { mkdir -p "$dir"; chown postgres:postgres "$dir"; chmod 700 "$dir"; }
  else
    mkdir -p "$dir"; chmod 700 "$dir"
  fi
  if [ ! -f "$dir/PG_VERSION" ]; then
    as_pg "$bin/initdb" -D "$dir" -U postgres --encoding=UTF8 --locale=C.UTF-8 --auth=trust >/dev/null
  fi
  if as_pg "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    exit 0
  fi
  extra=""
  if [ "$name" = test ]; then
    # Tests need real transactions, not durability across power loss.
    extra="-c fsync=off -c full_page_writes=off -c max_connections=600"
  elif [ "$name" = bench ]; then
    # Durable like production (fsync and synchronous_commit on), with room
    # for pgbench's 256 clients beside the server's pool.
    extra="-c max_connections=400 -c shared_buffers=512MB -c max_wal_size=4GB"
  fi
  as_pg "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c synchronous_commit=on $extra" start >/dev/null
  ;;
stop)
  name=${2:?name}
  bin=$(pgbin)
  dir=$root/$name
  [ -f "$dir/PG_VERSION" ] && as_pg "$bin/pg_ctl" -D "$dir" -m fast stop >/dev/null || true
  ;;
dev-db)
  port=${2:?port}
  psql=(psql -h 127.0.0.1 -p "$port" -U postgres -v ON_ERROR_STOP=1 -qtA)
  if [ "$("${psql[@]}" -c "SELECT 1 FROM pg_roles WHERE rolname = 'helpline'")" != 1 ]; then
    "${psql[@]}" -c "CREATE ROLE helpline LOGIN PASSWORD 'helpline'"
  fi
  if [ "$("${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = 'helpline'")" != 1 ]; then
    "${psql[@]}" -c "CREATE DATABASE helpline OWNER helpline ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8' TEMPLATE template0"
  fi
  # pg_trgm needs a superuser on PostgreSQL 15 unless it is trusted; create it here.
  "${psql[@]}" -d helpline -c "CREATE EXTENSION IF NOT EXISTS pg_trgm"
  ;;
*)
  echo "unknown command $cmd" >&2; exit 2 ;;
esac
