#!/usr/bin/env bash
# Runs a command beside a throwaway PostgreSQL 15 cluster: initdb into a temp dir (owned by a
# non-root user, since postgres refuses to run as root), start it on a unix socket, export the
# PG* variables, run the command, then stop and remove the cluster, also when the command fails.
#   scripts/with-postgres.sh ctest --test-dir build
# Exports: PGHOST (socket dir) PGPORT PGUSER PGDATABASE, and for tests that stop or restart the
# server: BARFILL_PG_DATA, BARFILL_PG_CTL (a command prefix that runs pg_ctl as the owner).
# BARFILL_PG_SETTINGS, if set, is appended to postgresql.conf (one setting per line), e.g. the
# benchmark's larger shared_buffers.
set -euo pipefail
pgbin=/usr/lib/postgresql/15/bin
[[ -x $pgbin/initdb ]] || { echo "error: PostgreSQL 15 is not installed (run scripts/install-deps.sh --test)" >&2; exit 2; }

dir=$(mktemp -d /tmp/barfill-pg.XXXXXX)
chmod 755 "$dir"
runas=()
if [[ $(id -u) == 0 ]]; then
  id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
  chown postgres "$dir"
  runas=(runuser -u postgres --)
fi

cleanup() {
  "${runas[@]}" "$pgbin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A port number only names the socket file; pick one no other cluster in /tmp uses.
port=$((20000 + RANDOM % 20000))
"${runas[@]}" "$pgbin/initdb" -D "$dir/data" -E UTF8 --locale=C.UTF-8 --auth=trust -U postgres >"$dir/initdb.log" 2>&1 ||
  { cat "$dir/initdb.log" >&2; exit 4; }
cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$dir'
port = $port
max_connections = 200
shared_buffers = 256MB
max_wal_size = 4GB
${BARFILL_PG_SETTINGS:-}
CONF
"${runas[@]}" "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null ||
  { cat "$dir/server.log" >&2; exit 4; }

export PGHOST=$dir PGPORT=$port PGUSER=postgres PGDATABASE=postgres
export BARFILL_PG_DATA=$dir/data
export BARFILL_PG_CTL="${runas[*]} $pgbin/pg_ctl"
echo "with-postgres: PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}') on $dir (port $port)"
set +e
"$@"
status=$?
set -e
exit $status
