#!/usr/bin/env bash
# Train for throughput: the ModelZoo port's test/train_performance_8p.sh, on stgcn.
#   bash ./test/train_performance_8p.sh --data_path=DIR [--use_gpu_npu=npu|gpu|cpu]
#        [--device=ID] [--lr=LR] [--train_epochs=N] [--test_path_dir=DIR] [--batch_size=N]
# Eight cards (--world_size=N for another count), 64 each, lr 0.8 as the port's 8-card script passes.
# 2 epochs, batch 64 per card. Writes test/output/<device>/ (see modelzoo.sh).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
source test/modelzoo.sh
parse_args "$@"
train "${world_size:-8}" 2 0.8 perf
