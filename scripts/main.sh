#!/usr/bin/env bash
# The main job: installs what is missing, builds, starts the emulator with its built-in
# functions, invokes `echo` twice with the real AWS CLI (a cold start, then a warm one),
# stops the emulator and prints the two rows of the invocation log.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh >/dev/null
build=${COLDLAB_BUILD_DIR:-build}
work=$(mktemp -d /tmp/coldlab-main-XXXXXX)
db=$work/coldlab.db

# --port 0: any free port; coldlab prints the one it got on its first stdout line.
coproc SERVER { exec "$build/bin/coldlab" serve --port 0 --db "$db" 2>"$work/coldlab.log"; }
server_pid=$SERVER_PID
trap 'kill -TERM $server_pid 2>/dev/null || true' EXIT
read -r line <&"${SERVER[0]}"
endpoint=${line##* }
echo "coldlab is listening on $endpoint (log: $db)"

export AWS_ACCESS_KEY_ID=coldlab AWS_SECRET_ACCESS_KEY=coldlab AWS_DEFAULT_REGION=us-east-1 AWS_PAGER=""
for i in 1 2; do
  echo "== aws lambda invoke --function-name echo (call $i)"
  /usr/bin/aws lambda invoke --endpoint-url "$endpoint" --function-name echo \
    --cli-binary-format raw-in-base64-out --payload "{\"call\": $i, \"study\": \"cold vs warm\"}" \
    "$work/response.json" >/dev/null
  echo "   response: $(cat "$work/response.json")"
done

kill -TERM "$server_pid"
wait "$server_pid" 2>/dev/null || true
trap - EXIT

echo "== the invocation log ($db)"
sqlite3 -header -column "$db" \
  "SELECT id, function, environment_id AS env, cold, round(init_ms, 2) AS init_ms,
          round(duration_ms, 2) AS duration_ms, billed_ms, max_memory_mb AS max_mem_mb, status,
          round(latency_us / 1000.0, 2) AS latency_ms
     FROM invocations ORDER BY id"
cold=$(sqlite3 "$db" "SELECT round(latency_us/1000.0,2) FROM invocations WHERE cold=1 LIMIT 1")
warm=$(sqlite3 "$db" "SELECT round(latency_us/1000.0,2) FROM invocations WHERE cold=0 LIMIT 1")
echo "cold start: $cold ms, warm: $warm ms end to end inside the emulator"
