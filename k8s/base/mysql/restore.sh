#!/bin/bash
# Restore one dump written by backup.sh into a database (created when missing):
#   MYSQL_HOST=... MYSQL_USER=root MYSQL_PASSWORD=... restore.sh /backups/gateway-20260101T023000Z.sql.gz gateway
# Restore into a fresh database (or server), check it, then point DATABASE_URL at it: never over
# the live one. tests/integration/gateway_api/test_backup_restore.py runs exactly this.
set -euo pipefail
dump="${1:?usage: restore.sh DUMP.sql.gz DATABASE}"
database="${2:?usage: restore.sh DUMP.sql.gz DATABASE}"
: "${MYSQL_HOST:?MYSQL_HOST is required}"
export MYSQL_PWD="${MYSQL_PASSWORD:-}"
client=("${MYSQL:-mysql}" --host="${MYSQL_HOST}" --port="${MYSQL_PORT:-3306}" --user="${MYSQL_USER:-root}")
"${client[@]}" --execute="CREATE DATABASE IF NOT EXISTS \`${database}\` CHARACTER SET utf8mb4"
gunzip -c "${dump}" | "${client[@]}" "${database}"
echo "restored ${dump} into ${database}"
