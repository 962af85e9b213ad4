#!/usr/bin/env bash
# Point-in-time recovery with pgBackRest, shown end to end on a throwaway PostgreSQL cluster
# (docs/operations.md, "Point-in-time recovery"):
#
#   1. a new cluster in a temporary folder, on a free port of 127.0.0.1 (never 5432: the
#      machine's own cluster is not touched), archiving its WAL to a local pgBackRest repository;
#   2. a full backup of the empty cluster;
#   3. the portal's migrations and demo catalog, submission A (audit sealed and checkpointed),
#      the time T, then submission B;
#   4. the cluster stopped and restored from the backup and the archived WAL to time T;
#   5. A is there, B is not, and the audit chain verifies against the exported checkpoint.
#
# Run as root (the cluster runs as the `postgres` OS user, through runuser). Everything is
# removed afterwards, also when a step fails (the EXIT trap). Exit status 0 only when step 5
# holds. PG_BIN, PITR_PORT and PYTHON override the defaults below.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

# The newest PostgreSQL installed, unless PG_BIN says otherwise.
PG_BIN=${PG_BIN:-$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)}
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
[ -x "$PYTHON" ] || PYTHON=$(command -v python3)
STANZA=portal

if [ "$(id -u)" != 0 ]; then
  echo "pitr_drill: run as root (the throwaway cluster runs as the postgres user)" >&2
  exit 2
fi
for tool in "$PG_BIN/initdb" "$PG_BIN/pg_ctl" "$(command -v pgbackrest || echo pgbackrest)"; do
  [ -x "$tool" ] || { echo "pitr_drill: $tool not found (make pgbackrest)" >&2; exit 2; }
done

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORT=${PITR_PORT:-54329}
while ! port_free "$PORT"; do PORT=$((PORT + 1)); done
[ "$PORT" != 5432 ] || { echo "pitr_drill: refusing port 5432" >&2; exit 2; }

as_pg() { runuser -u postgres -- "$@"; }
WORK=
cleanup() {
  status=$?
  if [ -n "$WORK" ] && [ -f "$WORK/data/postmaster.pid" ]; then
    as_pg "$PG_BIN/pg_ctl" -D "$WORK/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  if [ $status -ne 0 ]; then
    echo "pitr_drill: FAILED (exit $status); last lines of the cluster's log:" >&2
    [ -z "$WORK" ] || tail -n 20 "$WORK/postgres.log" 2>/dev/null >&2 || true
  fi
  [ -z "$WORK" ] || rm -rf "$WORK"
  exit $status
}
trap cleanup EXIT
WORK=$(mktemp -d /tmp/portal-pitr.XXXXXX)
chown postgres: "$WORK"
chmod 700 "$WORK"
DATA=$WORK/data
CONF=$WORK/pgbackrest.conf

echo "pitr_drill: throwaway cluster in $WORK on port $PORT"
as_pg mkdir -p "$WORK/repo" "$WORK/log" "$WORK/lock" "$WORK/spool" "$WORK/sock"
cat >"$CONF" <<CONF
[global]
repo1-path=$WORK/repo
repo1-retention-full=1
log-path=$WORK/log
lock-path=$WORK/lock
spool-path=$WORK/spool
start-fast=y
log-level-console=warn

[$STANZA]
pg1-path=$DATA
pg1-port=$PORT
pg1-socket-path=$WORK/sock
CONF
chown postgres: "$CONF"
BR=(pgbackrest "--config=$CONF" "--stanza=$STANZA")

as_pg "$PG_BIN/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
cat >>"$DATA/postgresql.conf" <<CONF
port = $PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$WORK/sock'
wal_level = replica
archive_mode = on
archive_command = 'pgbackrest --config=$CONF --stanza=$STANZA archive-push %p'
max_wal_senders = 3
CONF
start() { as_pg "$PG_BIN/pg_ctl" -D "$DATA" -l "$WORK/postgres.log" -w -t 120 start >/dev/null; }
psql_() { as_pg psql -h "$WORK/sock" -p "$PORT" -U postgres -XAtq "$@"; }
start

as_pg "${BR[@]}" stanza-create
as_pg "${BR[@]}" check
as_pg "${BR[@]}" --type=full backup
echo "pitr_drill: full backup taken"

psql_ -c "CREATE DATABASE portal"
export DATABASE_URL="postgres://postgres@127.0.0.1:$PORT/portal"
export DJANGO_SETTINGS_MODULE=config.settings.dev PORTAL_VAR_DIR=$WORK/var
# Every folder and key of the portal under the throwaway one: an operator's own settings in
# the environment must not send the drill's files, checkpoints or keys to their real places.
unset REDIS_URL PORTAL_TEST_DB_NAME AUDIT_CHECKPOINT_DIR PORTAL_MEDIA_ROOT PORTAL_KEY_FILE \
  PORTAL_AUDIT_KEY_FILE PORTAL_ENCRYPTION_KEYS PORTAL_BROKER_DIR PORTAL_BACKUP_DIR
mkdir -p "$PORTAL_VAR_DIR"
"$PYTHON" manage.py migrate --noinput -v 0
"$PYTHON" manage.py seed_demo >/dev/null
EARLIER=$("$PYTHON" tools/pitr_steps.py submit --checkpoint | tail -n 1)
# T: after A's commit (and its checkpoint's), before B's; the server's own clock.
TARGET=$(psql_ -d portal -c "SELECT clock_timestamp()")
psql_ -d portal -c "SELECT pg_sleep(0.1)" >/dev/null  # B commits strictly after T
LATER=$("$PYTHON" tools/pitr_steps.py submit | tail -n 1)
echo "pitr_drill: submitted $EARLIER, then $LATER after $TARGET"
# Every WAL segment so far in the repository (check switches segments and waits for them).
as_pg "${BR[@]}" check

as_pg "$PG_BIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null
as_pg "${BR[@]}" --delta --type=time "--target=$TARGET" --target-action=promote restore
start
for _ in $(seq 1 120); do
  [ "$(psql_ -c 'SELECT pg_is_in_recovery()' 2>/dev/null)" = f ] && break
  sleep 0.5
done
[ "$(psql_ -c 'SELECT pg_is_in_recovery()')" = f ] || { echo "pitr_drill: still in recovery" >&2; exit 1; }
echo "pitr_drill: restored to $TARGET"

"$PYTHON" tools/pitr_steps.py check "$EARLIER" "$LATER"
echo "pitr_drill: passed: $EARLIER present, $LATER absent, the audit chain verifies"
