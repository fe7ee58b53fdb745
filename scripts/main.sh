#!/usr/bin/env bash
# The main job: installs what is missing, builds (which also trains the KDD model on the
# synthetic data set), then reruns the study's Scenario 1 (one request at minutes 0, 6, 16,
# 31 and 61) on the study's inference function in Python and Java at 512 MB: real function
# processes under Lambda's memory and CPU limits, the hour skipped in virtual time. Prints
# the report (the request-by-request table: cold, warm, warm, warm, cold) and where its
# files and plots are.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh >/dev/null
build=${COLDLAB_BUILD_DIR:-build}
work=${COLDLAB_MAIN_DIR:-$(mktemp -d /tmp/coldlab-main-XXXXXX)}

echo "== the model (build/functions/kdd/model.zip, trained on SYNTHETIC KDD99-shaped data; docs/kdd.md)"
python3 - "$build/functions/kdd/training-report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
m = r["confusion_matrix"]
print(f"   test split {r['test_size']} records: tp {m['tp']} fp {m['fp']} tn {m['tn']} fn {m['fn']}; "
      f"precision {r['precision']:.3f} recall {r['recall']:.3f} F1 {r['f1']:.3f}")
PY

echo "== coldlab run experiments/scenario1-idle-gaps.yaml --memory 512 (virtual time; docs/experiments.md)"
start=$(date +%s.%N)
"$build/bin/coldlab" run experiments/scenario1-idle-gaps.yaml --memory 512 \
  --db "$work/coldlab.db" --out "$work/report" --progress lines
echo "== Scenario 1 for Python and Java at 512 MB took $(python3 -c "import time; print(round(time.time() - $start, 1))") s of wall time for 61 minutes of scenario each"
echo "== report: $work/report/report.md (tables, CSV, plots); log: $work/coldlab.db"
