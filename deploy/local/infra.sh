#!/usr/bin/env bash
# Starts/stops the local development infrastructure (Kafka + PostgreSQL).
#
#   deploy/local/infra.sh up [--kafka-only]   start what is needed
#   deploy/local/infra.sh down                stop what we started
#
# Product rule: configuration that points at an existing instance wins, and
# nothing local is started for it:
#   MARKETFLOW_KAFKA_BOOTSTRAP set  -> no local Kafka
#   MARKETFLOW_POSTGRES_URL set     -> no local PostgreSQL
# --kafka-only is for `make run`, which uses SQLite and needs no PostgreSQL.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

log() { echo "infra.sh: $*"; }
usage() { echo "usage: $0 {up [--kafka-only]|down}" >&2; exit 2; }

# ${VAR:+x}: an exported empty value counts as unset, like a blank .env line.
use_local_kafka() { [[ -z "${MARKETFLOW_KAFKA_BOOTSTRAP:+x}" ]]; }
use_local_postgres() { [[ -z "${MARKETFLOW_POSTGRES_URL:+x}" ]]; }

cmd_up() {
  local kafka_only=false
  for arg in "$@"; do
    case "$arg" in
      --kafka-only) kafka_only=true ;;
      *) usage ;;
    esac
  done

  if use_local_kafka; then
    "$SCRIPT_DIR/kafka.sh" start
  else
    log "MARKETFLOW_KAFKA_BOOTSTRAP=$MARKETFLOW_KAFKA_BOOTSTRAP is set; not starting local Kafka"
  fi

  if $kafka_only; then
    log "--kafka-only: not starting PostgreSQL"
  elif use_local_postgres; then
    "$SCRIPT_DIR/postgres.sh" start
  else
    # The URL may hold a password: do not echo it.
    log "MARKETFLOW_POSTGRES_URL is set; not starting local PostgreSQL"
  fi
}

cmd_down() {
  [[ $# -eq 0 ]] || usage
  # Stop Kafka even if PostgreSQL fails to stop (and vice versa), then report.
  local rc=0
  if use_local_kafka; then
    "$SCRIPT_DIR/kafka.sh" stop || rc=1
  else
    log "MARKETFLOW_KAFKA_BOOTSTRAP is set; no local Kafka to stop"
  fi
  if use_local_postgres; then
    "$SCRIPT_DIR/postgres.sh" stop || rc=1
  else
    log "MARKETFLOW_POSTGRES_URL is set; no local PostgreSQL to stop"
  fi
  return "$rc"
}

case "${1:-}" in
  up) shift; cmd_up "$@" ;;
  down) shift; cmd_down "$@" ;;
  *) usage ;;
esac
