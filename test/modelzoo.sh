# Shared by the ModelZoo-style scripts beside this file; sourced, never run alone.
#
# The scripts take the Ascend ModelZoo port's parameters (--key=value) and run stgcn:
# `stgcn run` to train, `stgcn eval` to evaluate. They leave in test/output/<device id>/
# what the port's scripts leave there: the training log train_<id>.log, the summary
# <CaseName>.log with one `KEY = value` line per figure, and train_<CaseName>_loss.txt.

Network="ST-GCN"
batch_size=64
device_id="${ASCEND_DEVICE_ID:-0}"
use_gpu_npu="npu"
data_path=""
lr=""
train_epochs=""
test_path_dir=""
weights=""
world_size=""

fail() {
    echo "[Error] $*" >&2
    exit 1
}

parse_args() {
    local para
    for para in "$@"; do
        case "$para" in
            --data_path=*) data_path="${para#*=}" ;;
            --device=* | --device_id=*) device_id="${para#*=}" ;;
            --use_gpu_npu=*) use_gpu_npu="${para#*=}" ;;
            --lr=*) lr="${para#*=}" ;;
            --train_epochs=*) train_epochs="${para#*=}" ;;
            --test_path_dir=*) test_path_dir="${para#*=}" ;;
            --weights=*) weights="${para#*=}" ;;
            --batch_size=*) batch_size="${para#*=}" ;;
            --world_size=*) world_size="${para#*=}" ;;
            *) fail "unknown parameter ${para%%=*} (known: --data_path, --device, --use_gpu_npu, --lr, --train_epochs, --test_path_dir, --weights, --batch_size, --world_size)" ;;
        esac
    done
    [[ -n "$data_path" ]] || fail 'para "data_path" must be given: --data_path=DIR (train_data.npy, train_label.pkl, val_data.npy, val_label.pkl)'
    [[ "$device_id" =~ ^[0-9]+$ ]] || fail "--device must be a card number, got '$device_id'"
    case "$use_gpu_npu" in
        npu) backend="npu" ;;
        gpu) backend="cuda" ;;
        cpu) backend="cpu" ;;
        *) fail "--use_gpu_npu must be npu, gpu or cpu, got '$use_gpu_npu'" ;;
    esac
    if command -v stgcn > /dev/null; then
        stgcn=(stgcn)
    else
        stgcn=(python3 -m stgcn)
    fi
    output="test/output/${device_id}"
}

# The command's own one-line error, else the log's last line, on stderr.
report_failure() {
    local line
    line=$(grep -a "^stgcn: error: " "$1" | tail -n 1)
    [[ -n "$line" ]] || line=$(tail -n 1 "$1")
    echo "$line" >&2
}

# One card: only --device is visible, as the port binds its one card.
use_one_card() {
    case "$backend" in
        npu) export ASCEND_RT_VISIBLE_DEVICES="${ASCEND_RT_VISIBLE_DEVICES:-$device_id}" ;;
        cuda) export CUDA_VISIBLE_DEVICES="${CUDA_VISIBLE_DEVICES:-$device_id}" ;;
    esac
}

# The run trains into WORK_DIR.incoming and takes WORK_DIR's place once it has
# finished; an earlier run there is moved aside, never overwritten or lost, and a run
# that fails before writing anything leaves nothing behind.
holds_run() {
    [[ -e "$1/metrics.jsonl" || -e "$1/checkpoints" ]]
}

set_aside() {
    local aside
    if [[ -d "$1" && -n "$(ls -A "$1")" ]]; then
        aside="${1%/}.$(date +%Y%m%d-%H%M%S)"
        mv "$1" "$aside" && echo "an earlier run in $1 was moved to $aside"
    fi
}

# train CARDS EPOCHS LR acc|perf: train, then write the summary files.
train() {
    local cards="$1" epochs="${train_epochs:-$2}" rate="${lr:-$3}" kind="$4"
    local case_name="${Network}_bs${batch_size}_${cards}p_${kind}"
    local work_dir="${test_path_dir:-work_dir/${case_name}}"
    local incoming="${work_dir%/}.incoming"
    local log="${output}/train_${device_id}.log"
    rm -rf "$output"
    mkdir -p "$output"
    set_aside "$incoming"
    local start end status
    start=$(date +%s)
    "${stgcn[@]}" run --backend "$backend" --cards "$cards" --dataset kinetics \
        --data-path "$data_path" --batch-size "$batch_size" --lr "$rate" --epochs "$epochs" \
        --work-dir "$incoming" > "$log" 2>&1
    status=$?
    end=$(date +%s)
    if [[ $status -ne 0 ]]; then
        report_failure "$log"
        holds_run "$incoming" && echo "the unfinished run is in $incoming" >&2
        holds_run "$incoming" || rm -rf "$incoming"
        exit "$status"
    fi
    set_aside "$work_dir"
    rmdir "$work_dir" 2> /dev/null
    mv "$incoming" "$work_dir"
    python3 test/modelzoo_summary.py --work-dir "$work_dir" --output "$output" \
        --case-name "$case_name" --network "$Network" --rank-size "$cards" \
        --batch-size "$batch_size" --e2e-seconds "$((end - start))" --device-type "$(uname -m)"
}
