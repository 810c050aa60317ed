#!/usr/bin/env bash
# A throw-away PostgreSQL server for the tests, on loopback, password authentication on.
#   source .ci/postgres.sh && pg_up     # exports NASBO_TEST_POSTGRES=postgres://…
#   pg_down                             # stops it and removes its data
# Installs Debian's `postgresql` package when no server is found. The server runs as the
# `postgres` user (initdb and postgres refuse root).
set -euo pipefail

pg_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  return 1
}

pg_up() {
  local bin
  if ! bin=$(pg_bin); then
    echo "postgres: installing Debian's postgresql package"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
    bin=$(pg_bin)
  fi
  PG_DIR=$(mktemp -d /tmp/nasbo-pg.XXXXXX)
  chown postgres "$PG_DIR"
  local pw=nasbo-test-$RANDOM$RANDOM
  printf '%s\n' "$pw" >"$PG_DIR/pw"
  chown postgres "$PG_DIR/pw"
  runuser -u postgres -- "$bin/initdb" -D "$PG_DIR/data" -U postgres --pwfile="$PG_DIR/pw" \
    --auth=scram-sha-256 >/dev/null
  # A free port on loopback.
  PG_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  runuser -u postgres -- "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
    -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
  PGPASSWORD=$pw psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -q -c "CREATE DATABASE nasbo_test" >/dev/null
  export PG_BIN=$bin PG_DIR PG_PORT
  export NASBO_TEST_POSTGRES="postgres://postgres:$pw@127.0.0.1:$PG_PORT/nasbo_test"
  echo "postgres: server on 127.0.0.1:$PG_PORT (data in $PG_DIR)"
}

pg_down() {
  if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR/data" ]; then
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null || true
    rm -rf "$PG_DIR"
    echo "postgres: stopped"
  fi
}
