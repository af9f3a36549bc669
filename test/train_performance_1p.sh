#!/usr/bin/env bash
# Train for throughput: the ModelZoo port's test/train_performance_1p.sh, on stgcn.
#   bash ./test/train_performance_1p.sh --data_path=DIR [--use_gpu_npu=npu|gpu|cpu]
#        [--device=ID] [--lr=LR] [--train_epochs=N] [--test_path_dir=DIR] [--batch_size=N]
# One card: only --device is visible. lr 0.1, the port's train.yaml (its scripts never pass their learning_rate=0.01).
# 2 epochs, batch 64 per card. Writes test/output/<device>/ (see modelzoo.sh).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
source test/modelzoo.sh
parse_args "$@"
use_one_card
train 1 2 0.1 perf
