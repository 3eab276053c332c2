#!/usr/bin/env bash
# Starts the local PostgreSQL 15 cluster for the tests (creating it when missing) and a
# role and database for them, then prints the URL the tests read from TB_TEST_POSTGRES_URL:
#   export TB_TEST_POSTGRES_URL=$(bash scripts/start-postgres.sh)
# Idempotent. Works without systemd (pg_ctlcluster starts the server itself) and as root
# (psql runs as the postgres user through runuser); tests connect over TCP to 127.0.0.1
# with a password, so any user can run them. The role only owns its test database.
# Needs the Debian packages postgresql and postgresql-common (scripts/install-deps.sh).
set -euo pipefail

version=15
cluster=main
role=tb_test
password=tb_test_only   # a throwaway role on a loopback-only test server, not a secret
database=trustbase_test

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi; }
as_postgres() { as_root runuser -u postgres -- "$@"; }

# Only the URL may reach stdout: the caller captures it with $(...), and pg_ctlcluster
# prints chatter there ("Removed stale pid file." after an unclean shutdown). A redirection
# of the whole body, not a saved descriptor: the server daemon would inherit that one and
# hold the caller's $(...) open forever.
start_cluster() {
  command -v pg_lsclusters >/dev/null || { echo "start-postgres: postgresql-common is not installed" >&2; exit 2; }
  if ! pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c { found = 1 } END { exit !found }'; then
    as_root pg_createcluster "$version" "$cluster" >/dev/null
  fi
  status=$(pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c { print $4 }')
  if [ "$status" != online ]; then
    # Through systemd where it runs, directly otherwise (CI containers often have none).
    as_root pg_ctlcluster "$version" "$cluster" start
  fi
  port=$(pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c { print $3 }')

  psql_admin() { as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$port" -d postgres "$@"; }
  for _ in $(seq 50); do psql_admin -c 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.2; done
  psql_admin <<SQL >/dev/null
SELECT format('CREATE ROLE %I LOGIN', '$role') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$role')
\gexec
ALTER ROLE $role WITH LOGIN PASSWORD '$password';
SELECT format('CREATE DATABASE %I OWNER %I ENCODING %L TEMPLATE template0', '$database', '$role', 'UTF8')
  WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$database')
\gexec
SQL
}
start_cluster >&2
echo "postgresql://$role:$password@127.0.0.1:$port/$database"
