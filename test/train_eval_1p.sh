#!/usr/bin/env bash
# Evaluate on one card: the ModelZoo port's test/train_eval.sh, on stgcn.
#   bash ./test/train_eval_1p.sh --data_path=DIR [--weights=CHECKPOINT]
#        [--use_gpu_npu=npu|gpu|cpu] [--device=ID] [--batch_size=N]
# --weights defaults to the best checkpoint train_full_1p.sh saved. Prints Top1 and
# Top5 as the port does; the evaluation's output goes to test/output/<device>/eval_<device>.log.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
source test/modelzoo.sh
parse_args "$@"
use_one_card
weights="${weights:-work_dir/${Network}_bs${batch_size}_1p_acc/checkpoints/best.pth.tar}"
[[ -f "$weights" ]] || fail "weights not found: $weights (train with train_full_1p.sh, or pass --weights=FILE)"
rm -rf "$output"
mkdir -p "$output"
log="${output}/eval_${device_id}.log"
"${stgcn[@]}" eval --checkpoint "$weights" --dataset kinetics --data-path "$data_path" \
    --backend "$backend" --batch-size "$batch_size" --json > "$log" 2>&1
status=$?
if [[ $status -ne 0 ]]; then
    report_failure "$log"
    exit "$status"
fi
python3 -c '
import json, sys
result = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
print("\tTop1: %.2f%%" % (result["top1"] * 100))
print("\tTop5: %.2f%%" % (result["top5"] * 100))
' "$log"
