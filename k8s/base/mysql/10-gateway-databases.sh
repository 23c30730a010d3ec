#!/bin/bash
# Run once by the mysql image on its first start (empty data volume), from /docker-entrypoint-initdb.d.
# Two databases on one server, one user each: the processor's decisions and the API's ledger are
# separate bounded contexts, and each service's credentials reach only its own data (least
# privilege; either database can later move to its own server by changing one DATABASE_URL).
# Passwords come from the environment (one source: mysql-secrets in Kubernetes, .env in compose);
# keep them URL-safe (they also go into DATABASE_URL).
set -euo pipefail
: "${PROCESSOR_DB_PASSWORD:?PROCESSOR_DB_PASSWORD is required}"
: "${GATEWAY_DB_PASSWORD:?GATEWAY_DB_PASSWORD is required}"
: "${BACKUP_DB_PASSWORD:?BACKUP_DB_PASSWORD is required}"

MYSQL_PWD="${MYSQL_ROOT_PASSWORD}" mysql --protocol=socket -uroot <<SQL
CREATE DATABASE IF NOT EXISTS processor CHARACTER SET utf8mb4 COLLATE utf8mb4_0900_ai_ci;
CREATE DATABASE IF NOT EXISTS gateway CHARACTER SET utf8mb4 COLLATE utf8mb4_0900_ai_ci;
CREATE USER IF NOT EXISTS 'processor'@'%' IDENTIFIED BY '${PROCESSOR_DB_PASSWORD}';
CREATE USER IF NOT EXISTS 'gateway'@'%' IDENTIFIED BY '${GATEWAY_DB_PASSWORD}';
GRANT ALL PRIVILEGES ON processor.* TO 'processor'@'%';
GRANT ALL PRIVILEGES ON gateway.* TO 'gateway'@'%';
-- The nightly dump (backup.sh) reads, never writes; RELOAD and REPLICATION CLIENT let it record
-- the binlog position of its snapshot (--source-data) for point-in-time recovery.
CREATE USER IF NOT EXISTS 'backup'@'%' IDENTIFIED BY '${BACKUP_DB_PASSWORD}';
GRANT SELECT, SHOW VIEW, TRIGGER, EVENT, PROCESS, RELOAD, REPLICATION CLIENT ON *.* TO 'backup'@'%';
FLUSH PRIVILEGES;
SQL
