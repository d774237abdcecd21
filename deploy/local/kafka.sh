#!/usr/bin/env bash
# Local single-node Apache Kafka (KRaft, broker+controller) for development.
#
#   deploy/local/kafka.sh fetch    resolve the broker jars from Maven Central
#   deploy/local/kafka.sh start    fetch if needed, format once, start, wait
#   deploy/local/kafka.sh stop     SIGTERM, then SIGKILL after 30 s
#   deploy/local/kafka.sh status   exit 0 if the broker is running
#   deploy/local/kafka.sh env NAME [sasl_ssl|ssl]
#                                  (secure mode) the MARKETFLOW_KAFKA_* variables with
#                                  which principal NAME reaches the secure broker
#
# Only Maven Central is reachable from our machines, so the broker is not the
# Apache tarball: it is kafka_2.13 plus its runtime dependencies, pinned in
# kafka-pom.xml next to this script, run as `java -cp lib/* kafka.Kafka`.
#
# Environment:
#   MARKETFLOW_CACHE                  jar cache   (default ~/.cache/marketflow)
#   MARKETFLOW_KAFKA_DATA             data dir    (default $MARKETFLOW_CACHE/kafka-data)
#   MARKETFLOW_KAFKA_PORT             client port (default 9092)
#   MARKETFLOW_KAFKA_CONTROLLER_PORT  KRaft port  (default 9093)
#   MARKETFLOW_KAFKA_HEAP             -Xmx        (default 1g)
#
# Secure mode, opt-in with MARKETFLOW_KAFKA_SECURE=1: a broker of its own (own data dir,
# default $MARKETFLOW_CACHE/kafka-secure-data, and ports; the plaintext one is untouched):
#   - a SASL_SSL listener (SCRAM-SHA-512) on MARKETFLOW_KAFKA_PORT (default 9192),
#   - an SSL listener with mutual TLS on MARKETFLOW_KAFKA_SSL_PORT (default 9193), the
#     client certificate's CN=<name> mapped to User:<name>; also the inter-broker one,
#   - the controller on MARKETFLOW_KAFKA_CONTROLLER_PORT (default 9194), mutual TLS,
#   - StandardAuthorizer: User:admin and User:broker are super users, everyone else
#     gets exactly the ACLs of shared/kafka_access.py (table in deploy/README.md).
# On the first start it makes, with keytool (run by KafkaAccess.java, all in one JVM),
# a CA, the broker's keystore and truststore
# and a client certificate and PEM key per principal; a random SCRAM password per
# principal (passwords/<name>); and formats the storage with those SCRAM users
# (kafka-storage format --add-scram). Every start then creates missing users and topics
# and applies the ACLs (deploy/local/KafkaAccess.java, signed in as User:admin). Needs
# the project's Python environment (make install) for the policy: MARKETFLOW_PYTHON
# (default .venv/bin/python), MARKETFLOW_NAMESPACE (default marketflow). Files are in
# $DATA/secure/; `deploy/local/kafka.sh env planning` prints what a service needs.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
POM="$SCRIPT_DIR/kafka-pom.xml"

# The pom is the single source of the version, so the two cannot drift.
KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$POM")
[[ -n "$KAFKA_VERSION" ]] || { echo "kafka.sh: no <kafka.version> in $POM" >&2; exit 1; }

CACHE=${MARKETFLOW_CACHE:-$HOME/.cache/marketflow}
LIB_DIR="$CACHE/kafka-$KAFKA_VERSION/lib"
# Written last by fetch: a half-finished download never counts as cached.
FETCH_MARKER="$CACHE/kafka-$KAFKA_VERSION/.fetched"
SECURE=${MARKETFLOW_KAFKA_SECURE:-0}
[[ "$SECURE" == 0 || "$SECURE" == 1 ]] || { echo "kafka.sh: MARKETFLOW_KAFKA_SECURE must be 0 or 1" >&2; exit 2; }
if [[ "$SECURE" == 1 ]]; then
  DATA_DIR=${MARKETFLOW_KAFKA_DATA:-$CACHE/kafka-secure-data}
  PORT=${MARKETFLOW_KAFKA_PORT:-9192}
  SSL_PORT=${MARKETFLOW_KAFKA_SSL_PORT:-9193}
  CONTROLLER_PORT=${MARKETFLOW_KAFKA_CONTROLLER_PORT:-9194}
else
  DATA_DIR=${MARKETFLOW_KAFKA_DATA:-$CACHE/kafka-data}
  PORT=${MARKETFLOW_KAFKA_PORT:-9092}
  CONTROLLER_PORT=${MARKETFLOW_KAFKA_CONTROLLER_PORT:-9093}
fi
HEAP=${MARKETFLOW_KAFKA_HEAP:-1g}
HOST=127.0.0.1

PID_FILE="$DATA_DIR/kafka.pid"
LOG_FILE="$DATA_DIR/kafka.log"
CONFIG="$DATA_DIR/server.properties"
LOG4J_CONFIG="$DATA_DIR/log4j2.properties"
LOG_DIRS="$DATA_DIR/logs"
SECURE_DIR="$DATA_DIR/secure"
REPO_DIR=$(cd "$SCRIPT_DIR/../.." && pwd)
# A broker recovering many partitions after an unclean stop needs a while.
START_TIMEOUT=${MARKETFLOW_KAFKA_START_TIMEOUT:-240}
STOP_TIMEOUT=30

log() { echo "kafka.sh: $*"; }
die() { echo "kafka.sh: ERROR: $*" >&2; exit 1; }

port_open() {
  # Bash's /dev/tcp avoids needing nc/ss on a fresh machine.
  timeout 2 bash -c "exec 3<>/dev/tcp/$HOST/$1" 2>/dev/null
}

# Prints the broker pid if the pidfile names a live broker of ours. Checking
# the command line guards against a recycled pid after a reboot or crash.
running_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid cmdline
  pid=$(<"$PID_FILE")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # Read into a variable: `tr | grep -q` can die of SIGPIPE under pipefail.
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ "$cmdline" == *kafka.Kafka* ]] || return 1
  echo "$pid"
}

classpath() { echo "$LIB_DIR/*"; }

cmd_fetch() {
  if [[ -f "$FETCH_MARKER" ]]; then
    log "Kafka $KAFKA_VERSION already cached in $LIB_DIR"
    return 0
  fi
  command -v mvn >/dev/null || die "mvn not found (install Maven: apt-get install -y maven)"
  command -v java >/dev/null || die "java not found (Kafka $KAFKA_VERSION needs Java 17+)"
  log "fetching Kafka $KAFKA_VERSION and its runtime dependencies from Maven Central ..."
  # Start from an empty lib dir so jars of an interrupted run cannot linger.
  rm -rf "$LIB_DIR"
  mkdir -p "$LIB_DIR"
  # runtime scope = what the broker loads. Output goes to a file and is shown
  # only on failure: Maven 3.8 prints stray ANSI codes even with -q.
  local mvn_log="$CACHE/kafka-$KAFKA_VERSION/fetch.log"
  if ! mvn -B -q -f "$POM" dependency:copy-dependencies \
      -DoutputDirectory="$LIB_DIR" -DincludeScope=runtime >"$mvn_log" 2>&1; then
    tail -n 40 "$mvn_log" >&2
    die "Maven could not resolve Kafka $KAFKA_VERSION (is Maven Central reachable?)"
  fi
  [[ -f "$LIB_DIR/kafka_2.13-$KAFKA_VERSION.jar" ]] \
    || die "kafka_2.13-$KAFKA_VERSION.jar missing from $LIB_DIR after fetch"
  touch "$FETCH_MARKER"
  log "cached $(find "$LIB_DIR" -name '*.jar' | wc -l) jars in $LIB_DIR"
}

write_config() {
  mkdir -p "$DATA_DIR" "$LOG_DIRS"
  # Rewritten on every start so port changes take effect. The static voter
  # list (not a dynamic quorum) keeps formatted storage valid if the
  # controller port changes later.
  cat >"$CONFIG" <<EOF
# Generated by deploy/local/kafka.sh on every start; edits are overwritten.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$CONTROLLER_PORT
controller.listener.names=CONTROLLER
log.dirs=$LOG_DIRS
EOF
  if [[ "$SECURE" == 1 ]]; then
    write_secure_listeners
  else
    cat >>"$CONFIG" <<EOF
listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
EOF
  fi
  cat >>"$CONFIG" <<EOF

# Single node: internal topics cannot have more than one replica.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
default.replication.factor=1
min.insync.replicas=1
# Consumers join at once instead of waiting 3 s for more members.
group.initial.rebalance.delay.ms=0

auto.create.topics.enable=true
num.partitions=3

# Development box: keep disk use bounded.
log.retention.hours=24
log.segment.bytes=104857600
EOF

  # Everything goes to stdout, which start redirects into kafka.log.
  cat >"$LOG4J_CONFIG" <<'EOF'
status = warn
appender.out.type = Console
appender.out.name = STDOUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = STDOUT
# Per-request and state-change chatter is useless for local development.
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.statechange.name = state.change.logger
logger.statechange.level = WARN
logger.clients.name = org.apache.kafka.clients
logger.clients.level = WARN
EOF
}

# ---- secure mode (MARKETFLOW_KAFKA_SECURE=1) ------------------------------------------

store_password() { cat "$SECURE_DIR/store.password"; }

# Short-lived JVMs: the C1 compiler alone and the serial collector start them faster.
QUICK_JVM=(-XX:TieredStopAtLevel=1 -XX:+UseSerialGC)

# deploy/local/KafkaAccess.java, run from source on the broker's classpath.
kafka_access() {
  java "${QUICK_JVM[@]}" -Xmx128m -Dlog4j2.level=ERROR \
    --add-exports java.base/sun.security.tools.keytool=ALL-UNNAMED \
    -cp "$(classpath)" "$SCRIPT_DIR/KafkaAccess.java" "$@"
}

write_secure_listeners() {
  local pass
  pass=$(store_password)
  cat >>"$CONFIG" <<EOF
listeners=SASL_SSL://$HOST:$PORT,SSL://$HOST:$SSL_PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
advertised.listeners=SASL_SSL://$HOST:$PORT,SSL://$HOST:$SSL_PORT
listener.security.protocol.map=SASL_SSL:SASL_SSL,SSL:SSL,CONTROLLER:SSL
inter.broker.listener.name=SSL

# TLS everywhere: the broker's certificate (CN=broker, SAN 127.0.0.1 and localhost) is
# signed by the CA made on the first start. Mutual TLS on SSL and CONTROLLER: a client
# certificate CN=<name> signs in as User:<name>.
ssl.keystore.type=PKCS12
ssl.keystore.location=$SECURE_DIR/broker.p12
ssl.keystore.password=$pass
ssl.key.password=$pass
ssl.truststore.type=PKCS12
ssl.truststore.location=$SECURE_DIR/truststore.p12
ssl.truststore.password=$pass
ssl.client.auth=required
ssl.principal.mapping.rules=RULE:^CN=([^,]+)\$/\$1/,DEFAULT
listener.name.sasl_ssl.ssl.client.auth=none

# SCRAM-SHA-512 on SASL_SSL: the user name is the principal.
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_ssl.sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;

# ACLs (shared/kafka_access.py): nothing is allowed that is not granted.
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:broker;User:admin
allow.everyone.if.no.acl.found=false
EOF
}

python_bin() {
  local py=${MARKETFLOW_PYTHON:-$REPO_DIR/.venv/bin/python}
  [[ -x "$py" ]] || die "secure mode computes its ACLs with the project's Python ($py is missing: run make install, or set MARKETFLOW_PYTHON)"
  echo "$py"
}

# The policy (users, topics, ACLs) from shared/kafka_access.py, the one place it lives.
policy() {
  local py
  py=$(python_bin) || return 1
  (cd "$REPO_DIR" && "$py" -m shared.kafka_access spec "${MARKETFLOW_NAMESPACE:-marketflow}")
}

random_secret() {
  # 24 alphanumerics: safe inside JAAS quotes and --add-scram brackets.
  local secret
  secret=$(LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom 2>/dev/null | head -c 24 || true)
  [[ ${#secret} -eq 24 ]] || die "could not read random bytes from /dev/urandom"
  echo "$secret"
}

# keytool's work, in one JVM (see deploy/local/KafkaAccess.java): a CA, the broker's
# keystore and truststore, and a client certificate and PEM key per principal.
make_certificates_once() {
  [[ -f "$SECURE_DIR/.certificates" ]] && return 0
  log "making a CA, the broker's keystore and a client certificate per principal with keytool"
  rm -rf "$SECURE_DIR/clients" "$SECURE_DIR"/*.p12 "$SECURE_DIR"/*.pem
  chmod 700 "$SECURE_DIR"
  [[ -s "$SECURE_DIR/store.password" ]] || (umask 077; random_secret >"$SECURE_DIR/store.password")
  kafka_access certificates "$SECURE_DIR" "$(store_password)" "$@" >"$SECURE_DIR/keytool.log" 2>&1 \
    || { tail -n 20 "$SECURE_DIR/keytool.log" >&2; die "keytool could not make the certificates"; }
  touch "$SECURE_DIR/.certificates"
}

# A SCRAM password per principal, made once (the broker gets them when the storage is
# formatted; KafkaAccess adds users that came later), and the scripts' own client
# configuration: User:admin over SASL_SSL.
make_passwords() {
  local principal
  mkdir -p "$SECURE_DIR/passwords"
  for principal in "$@"; do
    [[ -s "$SECURE_DIR/passwords/$principal" ]] && continue
    (umask 077; random_secret >"$SECURE_DIR/passwords/$principal")
  done
  (umask 077; cat >"$SECURE_DIR/admin.properties" <<EOF
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$(cat "$SECURE_DIR/passwords/admin")";
ssl.truststore.type=PKCS12
ssl.truststore.location=$SECURE_DIR/truststore.p12
ssl.truststore.password=$(store_password)
EOF
  )
}

scram_arguments() {
  local principal
  for principal in "$@"; do
    printf '%s\n' "--add-scram" \
      "SCRAM-SHA-512=[name=$principal,password=$(cat "$SECURE_DIR/passwords/$principal")]"
  done
}

# Waits (at most $1 seconds) until User:admin can sign in, then applies the policy.
apply_policy() {
  local output status=0
  output=$(kafka_access apply "$HOST:$PORT" "$SECURE_DIR/admin.properties" \
    "$SECURE_DIR/passwords" "$1" <<<"$SECURE_POLICY" 2>&1) || status=$?
  if (( status != 0 )); then
    echo "$output" | tail -n 20
    return "$status"
  fi
  echo "$output" | tail -n 1
}

cmd_env() {
  [[ "$SECURE" == 1 ]] || die "env describes the secure broker: set MARKETFLOW_KAFKA_SECURE=1"
  local name=${1:-} how=${2:-sasl_ssl}
  [[ -n "$name" ]] || die "usage: $0 env NAME [sasl_ssl|ssl]"
  [[ -f "$SECURE_DIR/passwords/$name" ]] \
    || die "no principal '$name' in $SECURE_DIR (start the secure broker first)"
  echo "export MARKETFLOW_KAFKA_SSL_CAFILE=$SECURE_DIR/ca.pem"
  # One broker: its topics have one replica (the services default to production's 3 / 2).
  echo "export MARKETFLOW_KAFKA_REPLICATION_FACTOR=1 MARKETFLOW_KAFKA_MIN_INSYNC_REPLICAS=1"
  case "$how" in
    sasl_ssl)
      echo "export MARKETFLOW_KAFKA_BOOTSTRAP=$HOST:$PORT"
      echo "export MARKETFLOW_KAFKA_SECURITY_PROTOCOL=SASL_SSL"
      echo "export MARKETFLOW_KAFKA_SASL_MECHANISM=SCRAM-SHA-512"
      echo "export MARKETFLOW_KAFKA_SASL_USERNAME=$name"
      echo "export MARKETFLOW_KAFKA_SASL_PASSWORD_FILE=$SECURE_DIR/passwords/$name" ;;
    ssl)
      echo "export MARKETFLOW_KAFKA_BOOTSTRAP=$HOST:$SSL_PORT"
      echo "export MARKETFLOW_KAFKA_SECURITY_PROTOCOL=SSL"
      echo "export MARKETFLOW_KAFKA_SSL_CERTFILE=$SECURE_DIR/clients/$name.pem"
      echo "export MARKETFLOW_KAFKA_SSL_KEYFILE=$SECURE_DIR/clients/$name.key" ;;
    *) die "usage: $0 env NAME [sasl_ssl|ssl]" ;;
  esac
}

# ---------------------------------------------------------------------------------------

run_tool() {
  java -Xmx256m -Dlog4j2.configurationFile="$LOG4J_CONFIG" -cp "$(classpath)" "$@"
}

format_storage_once() {
  # meta.properties exists once storage is formatted; reformatting would wipe
  # the cluster id and make the broker refuse its own data.
  if [[ -f "$LOG_DIRS/meta.properties" ]]; then
    return 0
  fi
  local cluster_id
  cluster_id=$(run_tool kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1)
  [[ "$cluster_id" =~ ^[A-Za-z0-9_-]{22}$ ]] || die "could not generate a cluster id (got '$cluster_id')"
  log "formatting KRaft storage in $LOG_DIRS (cluster id $cluster_id)"
  local scram=()
  if [[ "$SECURE" == 1 ]]; then
    # The SCRAM users go into the cluster's first metadata (KRaft's way: no broker
    # needs to run to create them, and User:admin can sign in at once).
    mapfile -t scram < <(scram_arguments "${SECURE_USERS[@]}")
  fi
  run_tool kafka.tools.StorageTool format -t "$cluster_id" -c "$CONFIG" "${scram[@]}" >>"$LOG_FILE" 2>&1 \
    || { tail -n 20 "$LOG_FILE" >&2; die "storage format failed (log: $LOG_FILE)"; }
}

# A metadata round trip through the real client API: proves the broker
# answers requests, not only that something listens on the port. Written as a
# Java single-file program so no extra tool jars have to be fetched.
metadata_check() {
  local src="$DATA_DIR/MetadataCheck.java"
  cat >"$src" <<'EOF'
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

public class MetadataCheck {
  public static void main(String[] args) throws Exception {
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
    p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
    p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "10000");
    try (Admin admin = Admin.create(p)) {
      String id = admin.describeCluster().clusterId().get();
      int nodes = admin.describeCluster().nodes().get().size();
      System.out.println("cluster " + id + ", " + nodes + " broker(s)");
    }
  }
}
EOF
  # Quiet log4j: the tool's own client logs would drown the one useful line.
  java -Xmx128m -Dlog4j2.level=ERROR \
    -cp "$(classpath)" "$src" "$HOST:$PORT" 2>/dev/null | tail -n1
}

cmd_start() {
  local pid
  if pid=$(running_pid) && port_open "$PORT"; then
    log "already running (pid $pid) on $HOST:$PORT"
    return 0
  fi
  if pid=$(running_pid); then
    # Alive but not listening: a start in progress or a wedged broker. Restart
    # cleanly rather than guessing.
    log "broker pid $pid is alive but $HOST:$PORT is closed; restarting it"
    cmd_stop
  fi
  if port_open "$PORT"; then
    die "port $PORT is already in use by another process (not our broker); stop it or set MARKETFLOW_KAFKA_PORT"
  fi
  if port_open "$CONTROLLER_PORT"; then
    die "controller port $CONTROLLER_PORT is in use by another process; set MARKETFLOW_KAFKA_CONTROLLER_PORT"
  fi
  if [[ "$SECURE" == 1 ]] && port_open "$SSL_PORT"; then
    die "SSL port $SSL_PORT is in use by another process; set MARKETFLOW_KAFKA_SSL_PORT"
  fi

  cmd_fetch
  if [[ "$SECURE" == 1 ]]; then
    SECURE_POLICY=$(policy) || die "could not compute the access policy (shared/kafka_access.py)"
    mapfile -t SECURE_USERS < <(sed -n 's/^user //p' <<<"$SECURE_POLICY")
    mkdir -p "$SECURE_DIR"
    make_certificates_once "${SECURE_USERS[@]}"
    make_passwords "${SECURE_USERS[@]}"
  fi
  write_config
  format_storage_once

  log "starting Kafka $KAFKA_VERSION on $HOST:$PORT (log: $LOG_FILE)"
  local start_line
  start_line=$(( $( (wc -l <"$LOG_FILE") 2>/dev/null || echo 0) + 1 ))
  # setsid + nohup: the broker must outlive this script and its terminal.
  setsid nohup java -Xms256m "-Xmx$HEAP" -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$LOG4J_CONFIG" \
    -cp "$(classpath)" kafka.Kafka "$CONFIG" >>"$LOG_FILE" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$PID_FILE"

  local waited=0
  while (( waited < START_TIMEOUT )); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "---- last lines of $LOG_FILE ----" >&2
      tail -n 30 "$LOG_FILE" >&2
      rm -f "$PID_FILE"
      die "broker exited during startup"
    fi
    # Only lines from this start count; older runs left the same message.
    if port_open "$PORT" && grep -q 'Kafka Server started' < <(tail -n "+$start_line" "$LOG_FILE"); then
      local info
      if [[ "$SECURE" == 1 ]]; then
        # Signs in as User:admin over SASL_SSL (proves TLS and SCRAM work), then
        # users, topics and ACLs.
        if info=$(apply_policy $(( START_TIMEOUT - waited ))); then
          log "ready after ${waited}s: pid $pid, $info"
          log "SASL_SSL $HOST:$PORT, SSL (mutual TLS) $HOST:$SSL_PORT; files in $SECURE_DIR"
          return 0
        fi
        echo "$info" >&2
        echo "---- last lines of $LOG_FILE ----" >&2
        tail -n 30 "$LOG_FILE" >&2
        cmd_stop >&2 || true
        die "the secure broker started but the access policy could not be applied"
      fi
      if info=$(metadata_check) && [[ -n "$info" ]]; then
        log "ready after ${waited}s: pid $pid, $info, bootstrap $HOST:$PORT"
        return 0
      fi
    fi
    sleep 1
    waited=$((waited + 1))
  done
  echo "---- last lines of $LOG_FILE ----" >&2
  tail -n 30 "$LOG_FILE" >&2
  cmd_stop >&2 || true
  die "broker did not become ready within ${START_TIMEOUT}s"
}

cmd_stop() {
  local pid
  if ! pid=$(running_pid); then
    rm -f "$PID_FILE"
    log "not running"
    return 0
  fi
  log "stopping broker (pid $pid) ..."
  kill -TERM "$pid" 2>/dev/null || true
  local waited=0
  while kill -0 "$pid" 2>/dev/null && (( waited < STOP_TIMEOUT )); do
    sleep 1
    waited=$((waited + 1))
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "still alive after ${STOP_TIMEOUT}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
  fi
  rm -f "$PID_FILE"
  log "stopped"
}

cmd_status() {
  local pid
  if pid=$(running_pid) && port_open "$PORT"; then
    log "running (pid $pid) on $HOST:$PORT"
    return 0
  fi
  log "not running"
  return 1
}

case "${1:-}" in
  fetch) cmd_fetch ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) shift; cmd_env "$@" ;;
  *) echo "usage: $0 {fetch|start|stop|status|env NAME [sasl_ssl|ssl]}" >&2; exit 2 ;;
esac
