#!/usr/bin/env bash
# The test suite again, on PostgreSQL: a database of its own on the local server (PGHOST, default
# 127.0.0.1:5432, user postgres), dropped afterwards. The reliability tests drive SQLite files
# directly and are not repeated; the benchmark's smoke test runs its quick bench on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."

host="${PGHOST:-127.0.0.1}"
port="${PGPORT:-5432}"
user="${PGUSER:-postgres}"
if ! pg_isready -q -h "$host" -p "$port"; then
  # The server the machine image starts; start it when it has stopped.
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
  fi
  pg_isready -q -h "$host" -p "$port" -t 30 || { echo "PostgreSQL is not reachable at $host:$port" >&2; exit 1; }
fi

database="store_test_$$_$(date +%s)"
createdb -h "$host" -p "$port" -U "$user" "$database"
trap 'dropdb -h "$host" -p "$port" -U "$user" --if-exists "$database" || true' EXIT
TEST_DATABASE_URL="postgres://$user@$host:$port/$database" npx vitest run --exclude 'test/reliability/**' "$@"
