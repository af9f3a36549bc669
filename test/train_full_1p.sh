#!/usr/bin/env bash
# Train to accuracy: the ModelZoo port's test/train_full_1p.sh, on stgcn.
#   bash ./test/train_full_1p.sh --data_path=DIR [--use_gpu_npu=npu|gpu|cpu]
#        [--device=ID] [--lr=LR] [--train_epochs=N] [--test_path_dir=DIR] [--batch_size=N]
# One card: only --device is visible. lr 0.1, the port's train.yaml (its scripts never pass their learning_rate=0.01).
# 50 epochs, batch 64 per card. Writes test/output/<device>/ (see modelzoo.sh).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
source test/modelzoo.sh
parse_args "$@"
use_one_card
train 1 50 0.1 acc
