#!/usr/bin/env bash
# Fine-tune a shipped quality model in one short GPU session (the device tool's machine, or any CUDA box).
# (scripts/train_iqa_gpu.sh trained iqa and iqa-seed from scratch; this one continues a shipped model.)
# Usage: scripts/finetune_iqa_gpu.sh DATA_DIR OUT_DIR INIT_MODEL SECONDS [SAMPLES_PER_CROP [TRAIN_IQA_OPTION ...]]
# (extra options go to train-iqa as they are, e.g. --edge-weight 2 --seed 9)
# Synthesis on the CPU cores is the bottleneck (the GPU idles), so the script first measures how many
# degraded samples per second the cores make, then picks the number of epochs that fits SECONDS, so
# that the cosine learning-rate schedule runs to its end. --max-minutes is only a safety net.
# Measured on the device tool's H200 machine (16 cores, by this probe when it called synth.sample itself,
# the same work): 618 samples/s on 15 workers, so 420 s give
# 10 epochs of 96 samples per training crop (about 220 k samples).
# With the device tool, the data folder is ignored by git, so it must be carried: copy the manifest and
# the train/val crops (the test crops are not needed, and the whole folder is near the 64 MiB limit)
# into an ignored folder, e.g. .gpu/faces, carry it, and point the training there with $OUT as OUT_DIR:
#   scripts/finetune_iqa_gpu.sh .gpu/faces $OUT/run iqa-fast 420 96 2>&1 | tee $OUT/train.log
set -euo pipefail
data=${1:-data/faces}; out=${2:-runs/iqa-gpu}; init=${3:-iqa-fast}; budget=${4:-420}; spc=${5:-96}
shift $(( $# < 5 ? $# : 5 ))
workers=$(( $(nproc) - 1 ))
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1 TQDM_DISABLE=1  # no progress bars in a log
mkdir -p "$out"
epochs=$(python3 - "$data" "$workers" "$budget" "$spc" <<'PY'
import sys, time
from multiprocessing import Pool
from pathlib import Path
import torch
from clairvoyance.training.dataset import Crops
from clairvoyance.training.train_iqa import SynthSet, serial_opencv

data, workers, budget, spc = Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
crops = Crops.load(data, "train")
ds = SynthSet(crops.images, spc, seed=0, natives=crops.natives)  # what train-iqa's loader workers make

def one(i):
    ds[i]

with serial_opencv(), Pool(workers) as pool:  # one OpenCV thread per worker, set before the fork
    pool.map(one, range(workers * 4))  # warm up
    t = time.time()
    n = workers * 40
    pool.map(one, range(n), chunksize=8)
    rate = n / (time.time() - t)
per_epoch = len(crops.images) * spc / rate + 6  # + loader start, precise BN, validation, plots
epochs = max(1, int(budget // per_epoch))
print(f"torch {torch.__version__}, cuda {torch.cuda.is_available()}: {rate:.0f} samples/s on {workers} "
      f"workers, {per_epoch:.0f} s per epoch -> {epochs} epochs", file=sys.stderr)
print(epochs)
PY
)
python3 -m clairvoyance.cli train-iqa --data "$data" --init "$init" --lr 3e-4 --epochs "$epochs" \
  --samples-per-crop "$spc" --batch 64 --workers "$workers" --out "$out" --model-version 2 \
  --max-minutes "$(python3 -c "print(round($budget / 60 + 0.5, 2))")" "$@"
