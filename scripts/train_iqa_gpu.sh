#!/usr/bin/env bash
# Train the shipped quality models in one GPU session (the device tool's machine, or any CUDA box).
# Usage: scripts/train_iqa_gpu.sh DATA_DIR OUT_DIR MINUTES_HF MINUTES_SEED
# Both runs share the GPU; data generation runs on the CPU cores (the bottleneck), split between them.
set -euo pipefail
data=${1:-data/faces}; out=${2:-runs}; m_hf=${3:-6}; m_seed=${4:-6}
cores=$(nproc)
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
python3 -m clairvoyance.cli train-iqa --data "$data" --arch hf --epochs 45 --samples-per-crop 16 --batch 64 \
  --workers $((cores * 2 / 3)) --out "$out/iqa-hf" --max-minutes "$m_hf" --resume > "$out/hf.log" 2>&1 &
python3 -m clairvoyance.cli train-iqa --data "$data" --arch seed --epochs 25 --samples-per-crop 16 --batch 64 \
  --lr 3e-4 --workers $((cores / 3)) --out "$out/iqa-seed" --max-minutes "$m_seed" --resume > "$out/seed.log" 2>&1 &
wait
grep -h "^epoch" "$out/hf.log" | tail -3
grep -h "^epoch" "$out/seed.log" | tail -3
