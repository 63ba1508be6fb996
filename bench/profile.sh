#!/usr/bin/env bash
# Where the instructions go on one hot path: runs the release binary under
# valgrind's callgrind (counts instructions, so the result does not depend on
# what else the machine does), sends N requests of one kind, and prints the
# functions with the highest inclusive cost.
#
#   bench/profile.sh client_credentials|introspection|userinfo|refresh|authorize [N]
#   (authorize: GET /auth for a signed-in user of a trusted service, code flow)
#   IDHUB_PROFILE_BINARY=/path/to/idhub bench/profile.sh …   (that binary, no build)
set -euo pipefail
cd "$(dirname "$0")/.."
case_name="${1:?case}"
requests="${2:-300}"
command -v valgrind >/dev/null || { echo "valgrind is needed (Debian package valgrind)"; exit 1; }
bin="${IDHUB_PROFILE_BINARY:-target/release/idhub}"
[ -n "${IDHUB_PROFILE_BINARY:-}" ] || cargo build --release --locked -q
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
port=$((20000 + RANDOM % 20000))
export DATABASE_URL="sqlite://$work/idhub.db" IDHUB_LISTEN="127.0.0.1:$port" IDHUB_ADMIN_PASSWORD=profile-admin-password IDHUB_LOG=warn IDHUB_WORKERS=1
$bin migrate >/dev/null 2>&1
callback=https://profile.example/cb
svc=$($bin services add --name profile --trusted --redirect-uri "$callback" --json)
id=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["id"])' "$svc")
secret=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["secret"])' "$svc")
$bin users add --login prof --password prof-password >/dev/null
valgrind --tool=callgrind --callgrind-out-file="$work/out" "$bin" >/dev/null 2>&1 &
server=$!
until curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null; do sleep 0.2; done
url="http://127.0.0.1:$port/api/rest/oauth2"
token() { curl -sf -u "$id:$secret" "$url/token" "$@"; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
cc=$(token -d grant_type=client_credentials | field access_token)
user=$(token -d grant_type=password -d username=prof -d password=prof-password -d scope=openid | field access_token)
refresh=$(token -d grant_type=password -d username=prof -d password=prof-password -d access_type=offline | field refresh_token)
# A browser session for the authorize case: the sign-in form, as a browser sends it.
base="http://127.0.0.1:$port"
csrf=$(curl -sf -c "$work/cookies" "$base/login" |
  python3 -c 'import re,sys; print(re.search(r"name=\"csrf_token\" value=\"([^\"]+)\"", sys.stdin.read()).group(1))')
curl -sf -o /dev/null -b "$work/cookies" -c "$work/cookies" "$base/login" \
  --data-urlencode "csrf_token=$csrf" -d return_to=/ -d login=prof -d password=prof-password
auth="$url/auth?client_id=$id&response_type=code&redirect_uri=$(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$callback")"
curl -sf -o /dev/null -w '%{redirect_url}' -b "$work/cookies" "$auth" | grep -q "code=" ||
  { echo "the authorize case did not get a code"; exit 1; }
# Start counting here: start-up and seeding are not part of the path.
callgrind_control -z "$server" >/dev/null 2>&1
for _ in $(seq "$requests"); do
  case "$case_name" in
    client_credentials) token -d grant_type=client_credentials >/dev/null ;;
    introspection) curl -sf -u "$id:$secret" "$url/introspect" -d "token=$cc" >/dev/null ;;
    userinfo) curl -sf "$url/userinfo" -H "Authorization: Bearer $user" >/dev/null ;;
    refresh) refresh=$(token -d grant_type=refresh_token -d "refresh_token=$refresh" | field refresh_token) ;;
    authorize) curl -sf -o /dev/null -b "$work/cookies" "$auth" ;;
    *) echo "unknown case $case_name"; exit 2 ;;
  esac
done
callgrind_control -d "$server" >/dev/null 2>&1
sleep 1
profile="$work/out.1"
total=$(callgrind_annotate "$profile" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",","",$1); print $1; exit}')
echo "$case_name: $((total / requests)) instructions per request in the server ($requests requests)"
# Exclusive cost: where the instructions are actually spent.
callgrind_annotate --threshold=100 "$profile" 2>/dev/null | grep -E '^ *[0-9,]+ \(' | grep -v -E 'PROGRAM TOTALS|\((99|100)\.' | head -12
