#!/usr/bin/env bash
# What housekeeping costs on a big database: seeds EXPIRED rows for it to
# delete (bench/seed.py), then measures client-credentials throughput (wrk,
# 8 connections) with housekeeping off, during the pass a server runs as it
# starts, and after it; prints the pass's rows and time.
#
#   bench/housekeeping.sh sqlite|postgres [EXPIRED (1000000)] [SECONDS (10)]
#   IDHUB_PROFILE_BINARY=/path/to/idhub bench/housekeeping.sh …   (that binary, no build)
set -euo pipefail
cd "$(dirname "$0")/.."
backend="${1:?sqlite or postgres}"
expired="${2:-1000000}"
seconds="${3:-10}"
bin="${IDHUB_PROFILE_BINARY:-target/release/idhub}"
[ -n "${IDHUB_PROFILE_BINARY:-}" ] || cargo build --release --locked -q
work=$(mktemp -d)
server=""
database="idhub_bench_housekeeping"
cleanup() {
  [ -z "$server" ] || kill "$server" 2>/dev/null || true
  rm -rf "$work"
  if [ "$backend" = postgres ]; then
    psql -q postgres://postgres@127.0.0.1:5432/postgres -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" || true
  fi
}
trap cleanup EXIT
for var in $(env | grep -o '^IDHUB_[A-Z_]*' || true); do unset "$var"; done
case "$backend" in
  sqlite) export DATABASE_URL="sqlite://$work/idhub.db" ;;
  postgres)
    psql -q postgres://postgres@127.0.0.1:5432/postgres -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" -c "CREATE DATABASE $database"
    export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$database" ;;
  *) echo "sqlite or postgres"; exit 2 ;;
esac
port=$((20000 + RANDOM % 20000))
export IDHUB_LISTEN="127.0.0.1:$port" IDHUB_ADMIN_PASSWORD=bench-admin-password IDHUB_LOG=warn,idhub::housekeeping=info
$bin migrate >/dev/null 2>&1
python3 bench/seed.py "$DATABASE_URL" --services 1000 --users 10000 --grants 100000 --expired "$expired"
svc=$($bin services add --name bench --trusted --json 2>/dev/null)
basic=$(python3 -c 'import json,sys,base64; s=json.loads(sys.argv[1]); print(base64.b64encode((s["id"]+":"+s["secret"]).encode()).decode())' "$svc")
cat > "$work/cc.lua" <<EOF
wrk.method = "POST"
wrk.path = "/api/rest/oauth2/token"
wrk.headers["Authorization"] = "Basic $basic"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "grant_type=client_credentials"
EOF
start() {
  IDHUB_HOUSEKEEPING_INTERVAL_SECS="$1" $bin >"$work/log" 2>&1 &
  server=$!
  until curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null; do sleep 0.1; done
}
stop() { kill "$server"; wait "$server" 2>/dev/null || true; server=""; }
rps() { wrk -t2 -c8 -d"${seconds}s" -s "$work/cc.lua" "http://127.0.0.1:$port" | awk '/Requests\/sec/ {print $2}'; }

start 0
echo "client credentials, housekeeping off:   $(rps) req/s"
stop
# The first pass begins as the server starts.
start 3600
echo "client credentials, during the pass:    $(rps) req/s"
until grep -q "housekeeping deleted" "$work/log"; do sleep 0.5; done
echo "client credentials, after the pass:     $(rps) req/s"
grep "housekeeping deleted" "$work/log" | sed 's/\x1b\[[0-9;]*m//g'
stop
