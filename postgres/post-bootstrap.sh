#!/usr/bin/env bash
# Run once, by Patroni, on the member that initialises the cluster, with a connection
# string to it as its argument: the application's database, owned by the superuser
# (migrate creates the roles the others connect as: create_roles).
set -Eeuo pipefail
psql --no-psqlrc -v ON_ERROR_STOP=1 -v db="${POSTGRES_DB:?Set POSTGRES_DB}" "$1" <<'SQL'
CREATE DATABASE :"db";
SQL
