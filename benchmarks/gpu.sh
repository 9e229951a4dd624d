#!/usr/bin/env bash
# The GPU check of issue 19, in one go, on a CUDA machine:
#   1. the CUDA-marked tests (tests/test_cuda.py),
#   2. the supernet benchmark at the DARTS paper's settings (C=16, 8 cells, 28x28,
#      batch 64), fp32 and bf16, exact DARTS next to the textbook op,
#   3. a full DARTS search (first order, C=16, 8 cells, batch 64, 50 epochs) on
#      PneumoniaMNIST from ../shared/data/medmnist, then its step time, peak memory
#      and wall time.
# Run from the repository root:  bash benchmarks/gpu.sh   (OUT=folder keeps the outputs)
# EPOCHS=2 bash benchmarks/gpu.sh makes step 3 a short trial.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! python -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
    echo "benchmarks/gpu.sh: error: no CUDA GPU is visible to torch" \
         "($(python -c 'import torch; print(torch.__version__)' 2>/dev/null || echo 'torch missing'));" \
         "run it on a machine with a GPU and a CUDA build of torch." >&2
    exit 2
fi
DATA=${DATA:-../shared/data/medmnist}
if [ ! -f "$DATA/pneumoniamnist.npz" ]; then
    echo "benchmarks/gpu.sh: error: $DATA/pneumoniamnist.npz not found; set DATA=<folder" \
         "holding pneumoniamnist.npz>." >&2
    exit 2
fi
OUT=${OUT:-$(mktemp -d -t nasbench-gpu-XXXXXX)}
EPOCHS=${EPOCHS:-50}
mkdir -p "$OUT"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
python -c "import torch; print('torch', torch.__version__, '| GPU', torch.cuda.get_device_name(0))"
echo "outputs in $OUT"

echo; echo "== 1. CUDA tests"
python -m pytest -m cuda tests/test_cuda.py -q -p no:cacheprovider

echo; echo "== 2. supernet benchmark, DARTS paper settings (C=16, 8 cells, b64)"
for precision in fp32 bf16; do
    python benchmarks/supernet.py --config reference --device cuda --precision "$precision" \
        --steps 20 --warmup 3 \
        --methods darts-1st,darts-1st+cl,darts-1st+recompute,darts-1st+cl+recompute,darts-2nd,pcdarts+cl,gdas+cl \
        --json "$OUT/supernet-$precision.json"
done

echo; echo "== 3. full DARTS search on PneumoniaMNIST ($EPOCHS epochs)"
python - "$OUT" "$DATA" "$EPOCHS" <<'EOF'
import os, sys, time
from pathlib import Path

from nasbench.config import DatasetConfig, SearchConfig
from nasbench.engine.search import search
from nasbench.runs import load

out, data, epochs = Path(sys.argv[1]), os.path.abspath(sys.argv[2]), int(sys.argv[3])
config = SearchConfig(
    dataset=DatasetConfig(name="pneumoniamnist", root=data, download=False, batch_size=64),
    space={"name": "darts", "n_nodes": 4, "skeleton": {"n_cells": 8, "channels": 16}},
    strategy="darts",
    strategy_config={"order": 1},
    epochs=epochs,
    device="cuda",
    precision="auto",
    checkpoint_every=50,
    seed=0,
)
started = time.perf_counter()
result = search(config, out / "search")
wall = time.perf_counter() - started
run = load(out / "search")
val = run.history[run.history.phase == "val"].pivot_table(index="epoch", columns="name", values="value")
print(f"status {result.status}, steps {result.steps}, genotype {result.genotype}")
print(f"final validation: {result.metrics}")
print(f"step time: {64 / val.images_per_s.median() * 1000:.1f} ms (median over epochs, "
      f"batch 64, validation excluded)")
print(f"peak memory: {val.peak_memory_mb.max():.0f} MiB (CUDA max allocated, worst epoch)")
print(f"wall time: {wall / 60:.1f} min for {epochs} epochs (target: 50 epochs in <= 15 min)")
EOF
echo; echo "gpu.sh: all done in $((SECONDS / 60)) min $((SECONDS % 60)) s; outputs in $OUT"
