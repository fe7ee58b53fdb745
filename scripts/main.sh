#!/usr/bin/env bash
# The main job: installs what is missing, builds (which also trains the KDD model on the
# synthetic data set), starts the emulator with its built-in functions and, with the real
# AWS CLI, asks the study's inference function for one prediction in Python and in Java at
# 512 MB: once cold, then three times warm. Prints the invocation log and cold vs warm.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh >/dev/null
build=${COLDLAB_BUILD_DIR:-build}
work=$(mktemp -d /tmp/coldlab-main-XXXXXX)
db=$work/coldlab.db

echo "== the model (build/functions/kdd/model.zip, trained on SYNTHETIC KDD99-shaped data; docs/kdd.md)"
python3 - "$build/functions/kdd/training-report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
m = r["confusion_matrix"]
print(f"   test split {r['test_size']} records: tp {m['tp']} fp {m['fp']} tn {m['tn']} fn {m['fn']}; "
      f"precision {r['precision']:.3f} recall {r['recall']:.3f} F1 {r['f1']:.3f}")
PY

# --port 0: any free port; coldlab prints the one it got on its first stdout line.
coproc SERVER { exec "$build/bin/coldlab" serve --port 0 --db "$db" 2>"$work/coldlab.log"; }
server_pid=$SERVER_PID
trap 'kill -TERM $server_pid 2>/dev/null || true' EXIT
read -r line <&"${SERVER[0]}"
endpoint=${line##* }
echo "coldlab is listening on $endpoint (log: $db; emulator output: $work/coldlab.log)"

export AWS_ACCESS_KEY_ID=coldlab AWS_SECRET_ACCESS_KEY=coldlab AWS_DEFAULT_REGION=us-east-1 AWS_PAGER=""
# One network connection from the KDD99 http subset: duration 0 s, 215 bytes sent, 45076 received.
payload='{"features": [0, 215, 45076]}'
for fn in kdd-python kdd-java; do
  for call in 1 2 3 4; do
    /usr/bin/aws lambda invoke --endpoint-url "$endpoint" --function-name "$fn" \
      --cli-binary-format raw-in-base64-out --payload "$payload" "$work/response.json" >/dev/null
    echo "== aws lambda invoke --function-name $fn (call $call): $(cat "$work/response.json")"
  done
done

kill -TERM "$server_pid"
wait "$server_pid" 2>/dev/null || true
trap - EXIT

echo "== the invocation log ($db)"
sqlite3 -header -column "$db" \
  "SELECT id, function, memory_mb AS mb, environment_id AS env, cold, round(init_ms, 1) AS init_ms,
          round(duration_ms, 2) AS duration_ms, max_memory_mb AS max_mem_mb, status,
          round(latency_us / 1000.0, 2) AS latency_ms
     FROM invocations ORDER BY id"
echo "== cold vs warm, end to end inside the emulator (cgroup limits: 512 MB, 512/1769 of a CPU)"
sqlite3 "$db" \
  "SELECT function,
          round(max(CASE WHEN cold = 1 THEN latency_us END) / 1000.0, 1),
          round(avg(CASE WHEN cold = 0 THEN latency_us END) / 1000.0, 2)
     FROM invocations GROUP BY function ORDER BY function" |
while IFS='|' read -r fn cold warm; do
  echo "   $fn: cold $cold ms, warm $warm ms (mean of 3): a cold start costs $(python3 -c "print(round($cold / $warm))")x a warm call"
done
