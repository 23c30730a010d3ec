#!/bin/bash
# Logical backup of the gateway's databases, one gzip file per database, named by UTC time.
# Run by the `mysql-backup` CronJob (k8s/base/mysql/backup.yaml); tests/integration/test_backup_restore.py
# runs this same script against MariaDB and restores its output. Restore: k8s/README.md.
#
# --single-transaction: a consistent InnoDB snapshot without locking the services out.
# BACKUP_DUMP_OPTIONS adds options: the CronJob passes --source-data=2, which writes the binlog
# position of the snapshot as a comment, the starting point of a point-in-time recovery.
set -euo pipefail
: "${MYSQL_HOST:?MYSQL_HOST is required}"
: "${BACKUP_DIR:?BACKUP_DIR is required}"
: "${BACKUP_DATABASES:?BACKUP_DATABASES is required (space-separated)}"
export MYSQL_PWD="${MYSQL_PASSWORD:-}"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
for database in ${BACKUP_DATABASES}; do
  target="${BACKUP_DIR}/${database}-${stamp}.sql.gz"
  # shellcheck disable=SC2086  # BACKUP_DUMP_OPTIONS is a list of options
  "${MYSQLDUMP:-mysqldump}" --host="${MYSQL_HOST}" --port="${MYSQL_PORT:-3306}" --user="${MYSQL_USER:-backup}" \
    --single-transaction --quick --routines --triggers --events --hex-blob --no-tablespaces \
    ${BACKUP_DUMP_OPTIONS:-} "${database}" | gzip -c > "${target}.partial"
  mv "${target}.partial" "${target}"  # a file without .partial is a complete dump
  echo "backed up ${database} to ${target}"
done
# Keep BACKUP_KEEP_DAYS days of dumps (binlogs are kept as long: binlog_expire_logs_seconds).
find "${BACKUP_DIR}" -name '*.sql.gz' -mtime +"${BACKUP_KEEP_DAYS:-7}" -print -delete
