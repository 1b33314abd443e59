#!/usr/bin/env bash
# The PostgreSQL server the tests use: the one at $ZEROG_TEST_POSTGRES (default
# postgresql://postgres@127.0.0.1:5432/test) when it answers; else a cluster of the tests' own,
# from Debian's package (installed if missing), with trust auth on 127.0.0.1, started here.
# A server already listening on the port without letting us in gets a cluster on a free port;
# its URL is written to build/test-postgres-url, which the tests read (see
# tests/backends/support/postgres_server.py). Needs root (apt-get, and the postgres user).
set -euo pipefail
cd "$(dirname "$0")/.."
url="${ZEROG_TEST_POSTGRES:-postgresql://postgres@127.0.0.1:${ZEROG_TEST_POSTGRES_PORT:-5432}/test}"
data="${ZEROG_TEST_POSTGRES_DATA:-$PWD/build/pgdata}"
url_file="${ZEROG_TEST_POSTGRES_URL_FILE:-$PWD/build/test-postgres-url}"
rm -f "$url_file"

answers() { command -v psql >/dev/null && psql "$1" -Atqc 'select 1' >/dev/null 2>&1; }
remember() {  # the tests read a URL other than the default from the file
  if [ "$1" != "postgresql://postgres@127.0.0.1:5432/test" ]; then echo "$1" > "$url_file"; fi
}

if answers "$url"; then
  remember "$url"
  echo "PostgreSQL for the tests: $url"
  exit 0
fi
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  apt-get update && apt-get install -y postgresql postgresql-client
fi
bin=$(dirname "$(ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)")
port=${ZEROG_TEST_POSTGRES_PORT:-5432}
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then  # taken by a server we cannot use
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
fi
mkdir -p build
if [ ! -f "$data/PG_VERSION" ]; then
  mkdir -p "$data" && chown postgres:postgres "$data"
  su postgres -s /bin/sh -c "'$bin/initdb' -D '$data' -U postgres --auth=trust -E UTF8" >/dev/null
fi
chown -R postgres:postgres "$data"
su postgres -s /bin/sh -c "'$bin/pg_ctl' -D '$data' -l '$data/server.log' -w \
  -o \"-p $port -k /tmp -c listen_addresses=127.0.0.1 -c fsync=on\" start" >/dev/null
own="postgresql://postgres@127.0.0.1:$port/test"
psql "postgresql://postgres@127.0.0.1:$port/postgres" -Atqc \
  "select 1 from pg_database where datname = 'test'" | grep -q 1 \
  || psql "postgresql://postgres@127.0.0.1:$port/postgres" -qc 'create database test'
remember "$own"
echo "PostgreSQL for the tests: $own (a cluster of the tests' own in $data)"
