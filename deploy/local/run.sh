#!/usr/bin/env bash
# `make run`: Kafka + the four services on SQLite, a demo campaign, and the web app (the
# backend-for-frontend serving the single-page app) on 8000, served until Ctrl-C.
# Stops what it started (a Kafka that was already running is left running).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
PY=.venv/bin/python
VAR="${MARKETFLOW_VAR_DIR:-$ROOT/var}"
mkdir -p "$VAR/log" "$VAR/data"
SERVICES=(planning execution notification reporting)
export MARKETFLOW_PLANNING_PORT=${MARKETFLOW_PLANNING_PORT:-8001}
export MARKETFLOW_EXECUTION_PORT=${MARKETFLOW_EXECUTION_PORT:-8002}
export MARKETFLOW_NOTIFICATION_PORT=${MARKETFLOW_NOTIFICATION_PORT:-8003}
export MARKETFLOW_REPORTING_PORT=${MARKETFLOW_REPORTING_PORT:-8004}
export MARKETFLOW_WEB_PORT=${MARKETFLOW_WEB_PORT:-8000}
declare -A PORTS=([planning]=$MARKETFLOW_PLANNING_PORT [execution]=$MARKETFLOW_EXECUTION_PORT
                  [notification]=$MARKETFLOW_NOTIFICATION_PORT [reporting]=$MARKETFLOW_REPORTING_PORT)
PIDS=()
STARTED_KAFKA=false

stop_all() {
  trap - INT TERM EXIT
  echo; echo "run.sh: stopping the services"
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if $STARTED_KAFKA; then deploy/local/kafka.sh stop; fi
}
trap stop_all INT TERM EXIT

if [[ -z "${MARKETFLOW_KAFKA_BOOTSTRAP:+x}" ]] && ! deploy/local/kafka.sh status >/dev/null 2>&1; then
  STARTED_KAFKA=true
fi
deploy/local/infra.sh up --kafka-only

export MARKETFLOW_STORE=sqlite MARKETFLOW_SQLITE_DIR="$VAR/data"
# One local broker: topics get one replica (the services' defaults are production's 3 / 2).
export MARKETFLOW_KAFKA_REPLICATION_FACTOR=${MARKETFLOW_KAFKA_REPLICATION_FACTOR:-1}
export MARKETFLOW_KAFKA_MIN_INSYNC_REPLICAS=${MARKETFLOW_KAFKA_MIN_INSYNC_REPLICAS:-1}

# A local SMTP catcher (aiosmtpd): notification's emails land in $VAR/mail (a Maildir),
# nothing leaves the machine. Set MARKETFLOW_SMTP_HOST to use a real server instead.
if [[ -z "${MARKETFLOW_SMTP_HOST:-}" ]]; then
  export MARKETFLOW_SMTP_HOST=127.0.0.1 MARKETFLOW_SMTP_PORT=${MARKETFLOW_SMTP_PORT:-8025}
  mkdir -p "$VAR/mail/cur" "$VAR/mail/new" "$VAR/mail/tmp"  # a Maildir
  "$PY" -m aiosmtpd -n -l "127.0.0.1:$MARKETFLOW_SMTP_PORT" \
    -c aiosmtpd.handlers.Mailbox "$VAR/mail" >>"$VAR/log/smtp.log" 2>&1 &
  PIDS+=($!)
  SMTP_CATCHER="local catcher on 127.0.0.1:$MARKETFLOW_SMTP_PORT, mail in $VAR/mail"
else
  SMTP_CATCHER="$MARKETFLOW_SMTP_HOST:${MARKETFLOW_SMTP_PORT:-25}"
fi
export MARKETFLOW_NOTIFY_POLL_SECONDS=${MARKETFLOW_NOTIFY_POLL_SECONDS:-2}
# Demo webhooks may point at a receiver on this machine (production refuses such addresses).
export MARKETFLOW_WEBHOOK_PRIVATE_ADDRESSES=${MARKETFLOW_WEBHOOK_PRIVATE_ADDRESSES:-true}
export MARKETFLOW_TOKENS_FILE="${MARKETFLOW_TOKENS_FILE:-$VAR/demo-tokens.json}"
if [[ ! -f "$MARKETFLOW_TOKENS_FILE" ]] || ! grep -q '"roles"' "$MARKETFLOW_TOKENS_FILE"; then
  # Fresh random demo tokens, kept across runs so bookmarked commands keep working (a
  # file from before access roles is replaced). Anna administers and plans, Audrey
  # audits; the others are contributors whose rights follow the directory.
  "$PY" - "$MARKETFLOW_TOKENS_FILE" <<'PYEOF'
import json, secrets, sys
members = {"anna": ("Anna (marketing manager)", ["admin", "planner"]),
           "ben": ("Ben (writer)", []), "carla": ("Carla (designer)", []),
           "dave": ("Dave (web)", []), "erin": ("Erin (brand)", []),
           "lee": ("Lee (legal)", []), "audrey": ("Audrey (auditor)", ["auditor"])}
tokens = {f"mf_{member}_{secrets.token_urlsafe(12)}":
          {"member_id": member, "name": name, "roles": roles}
          for member, (name, roles) in members.items()}
with open(sys.argv[1], "w") as f:
    json.dump(tokens, f, indent=2)
PYEOF
fi

# The web app's session cookies are sealed with this key; kept across runs so a restart
# keeps people signed in. Plain http on this machine: the cookie cannot be Secure here.
SESSION_KEY_FILE="$VAR/web-session-key"
if [[ -z "${MARKETFLOW_WEB_SESSION_KEY:+x}" ]]; then
  if [[ ! -s "$SESSION_KEY_FILE" ]]; then
    (umask 077 && "$PY" -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())" \
      >"$SESSION_KEY_FILE")
  fi
  MARKETFLOW_WEB_SESSION_KEY=$(cat "$SESSION_KEY_FILE")
fi
export MARKETFLOW_WEB_SESSION_KEY MARKETFLOW_WEB_COOKIE_SECURE=${MARKETFLOW_WEB_COOKIE_SECURE:-false}

wait_ready() {  # name port: waits for /health/ready, or shows the log and fails
  local name=$1 port=$2
  for _ in $(seq 1 120); do
    if "$PY" -c "import httpx,sys; sys.exit(httpx.get('http://127.0.0.1:$port/health/ready').status_code != 200)" 2>/dev/null; then
      return 0
    fi
    sleep 0.5
  done
  echo "run.sh: $name did not become ready; last log lines:" >&2
  tail -n 30 "$VAR/log/$name.log" >&2
  exit 1
}

for service in "${SERVICES[@]}"; do
  "$PY" -m "services.$service" >>"$VAR/log/$service.log" 2>&1 &
  PIDS+=($!)
done

for service in "${SERVICES[@]}"; do
  wait_ready "$service" "${PORTS[$service]}"
done

# The web app after the services it forwards to.
"$PY" -m services.web >>"$VAR/log/web.log" 2>&1 &
PIDS+=($!)
wait_ready web "$MARKETFLOW_WEB_PORT"

campaign=$("$PY" deploy/local/seed_demo.py "$MARKETFLOW_TOKENS_FILE")

cat <<INFO

  Open the web app: http://127.0.0.1:${MARKETFLOW_WEB_PORT}
  (sign in as any demo member below; nothing to paste)

Marketflow is running (SQLite stores in $VAR/data, logs in $VAR/log, Kafka ${MARKETFLOW_KAFKA_BOOTSTRAP:-127.0.0.1:9092}).

The APIs:
  planning      http://127.0.0.1:${PORTS[planning]}/docs
  execution     http://127.0.0.1:${PORTS[execution]}/docs
  notification  http://127.0.0.1:${PORTS[notification]}/docs
  reporting     http://127.0.0.1:${PORTS[reporting]}/docs

Demo members and their bearer tokens ($MARKETFLOW_TOKENS_FILE):
$("$PY" -c "
import json,sys
for token, m in json.load(open(sys.argv[1])).items(): print(f'  {m[\"member_id\"]:<6} {token}   {m[\"name\"]}')
" "$MARKETFLOW_TOKENS_FILE")

Demo campaign $campaign, for example:
  curl -H "Authorization: Bearer <ben's token>" 'http://127.0.0.1:${PORTS[execution]}/tasks?assignee=me'
  curl -H "Authorization: Bearer <audrey's token>" http://127.0.0.1:${PORTS[reporting]}/campaigns/$campaign/progress
  curl -X POST -H "Authorization: Bearer <ben's token>" -H 'Content-Type: application/json' -d '{"kind": "member", "id": "ben"}' http://127.0.0.1:${PORTS[planning]}/members/ben/calendar-feeds
      (a secret calendar address for ben's feed alone: subscribe to the url it answers)
Who may do what: the access matrix in README.md.

Email: $SMTP_CATCHER. Read what the demo sent:
  $PY -c "import mailbox,sys; [print(m['Date'], m['To'], m['Subject'], sep='  ') for m in mailbox.Maildir(sys.argv[1])]" "$VAR/mail"

Press Ctrl-C to stop.
INFO
wait -n "${PIDS[@]}" || true
echo "run.sh: a service exited; see $VAR/log" >&2
