#!/bin/bash
# Point-in-time recovery, after restore.sh: replay the binlogs from the position a dump was taken at
# (written into it by the CronJob's --source-data=2, or --master-data=2 on MariaDB) up to a moment:
#   MYSQL_HOST=... MYSQL_USER=root MYSQL_PASSWORD=... replay-binlogs.sh DUMP.sql.gz DATABASE \
#     "2026-01-01 10:59:59" /var/lib/mysql/binlog.000042 /var/lib/mysql/binlog.000043 ...
# The stop time is the server's local time (the last event replayed is the last one before it).
# Only DATABASE's events are replayed, into DATABASE or, with REPLAY_INTO=name, into the database
# restore.sh restored the dump into (never over the live one). Needs row-based binlogs (the default). tests/integration/gateway_api/test_point_in_time_restore.py
# runs exactly this against a MariaDB server it starts with binlogs.
set -euo pipefail
dump="${1:?usage: replay-binlogs.sh DUMP.sql.gz DATABASE STOP_DATETIME BINLOG...}"
database="${2:?usage: replay-binlogs.sh DUMP.sql.gz DATABASE STOP_DATETIME BINLOG...}"
stop="${3:?usage: replay-binlogs.sh DUMP.sql.gz DATABASE STOP_DATETIME BINLOG...}"
shift 3
(( $# > 0 )) || { echo "replay-binlogs.sh: no binlog file given" >&2; exit 2; }
: "${MYSQL_HOST:?MYSQL_HOST is required}"
export MYSQL_PWD="${MYSQL_PASSWORD:-}"
# "CHANGE REPLICATION SOURCE TO SOURCE_LOG_FILE='binlog.000042', SOURCE_LOG_POS=157;" (MySQL 8.4)
# or "CHANGE MASTER TO MASTER_LOG_FILE='binlog.000042', MASTER_LOG_POS=157;" (MariaDB).
position="$(gunzip -c "${dump}" | head -n 100 | grep -m1 -E "(SOURCE|MASTER)_LOG_POS=" || true)"
[[ -n "${position}" ]] || { echo "replay-binlogs.sh: ${dump} has no binlog position (dumped without --source-data=2)" >&2; exit 1; }
start_file="$(sed -E "s/.*_LOG_FILE='([^']+)'.*/\1/" <<< "${position}")"
start_pos="$(sed -E "s/.*_LOG_POS=([0-9]+).*/\1/" <<< "${position}")"
# The files from the dump's one on (older ones hold nothing the dump lacks).
files=()
for file in "$@"; do
  if [[ ${#files[@]} -gt 0 || "$(basename "${file}")" == "${start_file}" ]]; then files+=("${file}"); fi
done
(( ${#files[@]} > 0 )) || { echo "replay-binlogs.sh: ${start_file} (the dump's) is not among the files given" >&2; exit 1; }
target="${REPLAY_INTO:-${database}}"
rewrite=()
[[ "${target}" == "${database}" ]] || rewrite=(--rewrite-db="${database}->${target}")
# MySQL's mysqlbinlog applies --database to the rewritten name, MariaDB's to the original one.
filter="${target}"
if "${MYSQLBINLOG:-mysqlbinlog}" --version | grep -qi mariadb; then filter="${database}"; fi
"${MYSQLBINLOG:-mysqlbinlog}" --start-position="${start_pos}" --stop-datetime="${stop}" "${rewrite[@]}" \
  --database="${filter}" "${files[@]}" \
  | "${MYSQL:-mysql}" --host="${MYSQL_HOST}" --port="${MYSQL_PORT:-3306}" --user="${MYSQL_USER:-root}"
echo "replayed ${#files[@]} binlog file(s) of ${database} into ${target} from ${start_file}:${start_pos} to ${stop}"
