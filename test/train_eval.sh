#!/usr/bin/env bash
# The name the ModelZoo port's folder gives its evaluation script: train_eval_1p.sh.
exec bash "$(dirname "$0")/train_eval_1p.sh" "$@"
