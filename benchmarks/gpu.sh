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
# QUICK=1 bash benchmarks/gpu.sh is what fits one 10-minute command on a lent GPU (15
# device-minutes a session, the machine's start included): the benchmark in fp32 only
# (bf16 was the slower at 28x28 on the H200), seven rows of 5 timed steps, and the search
# stopped after 240 s, its 50 epochs extrapolated from the epochs it finished.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-$(command -v python || command -v python3)}

if ! "$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
    echo "benchmarks/gpu.sh: error: no CUDA GPU is visible to torch" \
         "($("$PY" -c 'import torch; print(torch.__version__)' 2>/dev/null || echo 'torch missing'));" \
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
# The search is stopped after SEARCH_SECONDS; its figures are then read from the epochs it
# finished (the run store keeps every row), so a slow GPU still reports.
if [ "${QUICK:-0}" = 1 ]; then
    PRECISIONS="fp32"
    BENCH_STEPS=(--steps 5 --warmup 2)
    METHODS=darts-1st,darts-1st+graph,darts-1st+fused,darts-1st+recompute-convs,darts-2nd+fwd,pcdarts+cl,gdas+cl
    SEARCH_SECONDS=${SEARCH_SECONDS:-240}
else
    PRECISIONS="fp32 bf16"
    BENCH_STEPS=(--steps 20 --warmup 3)
    METHODS=darts-1st,darts-1st+graph,darts-1st+fused,darts-1st+cl,darts-1st+recompute,darts-1st+recompute-convs,darts-1st+cl+recompute,darts-2nd,darts-2nd+fwd,pcdarts+cl,gdas+cl
    SEARCH_SECONDS=${SEARCH_SECONDS:-1800}
fi
mkdir -p "$OUT"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
"$PY" -c "import torch; print('torch', torch.__version__, '| GPU', torch.cuda.get_device_name(0))"
echo "outputs in $OUT"
failed=()

echo; echo "== 1. CUDA tests"
"$PY" -m pytest -m cuda tests/test_cuda.py -q -p no:cacheprovider || failed+=("CUDA tests")

echo; echo "== 2. supernet benchmark, DARTS paper settings (C=16, 8 cells, b64)"
for precision in $PRECISIONS; do
    "$PY" benchmarks/supernet.py --config reference --device cuda --precision "$precision" \
        "${BENCH_STEPS[@]}" --methods "$METHODS" \
        --json "$OUT/supernet-$precision.json" || failed+=("supernet $precision")
done

echo; echo "== 3. full DARTS search on PneumoniaMNIST ($EPOCHS epochs, stopped after $SEARCH_SECONDS s)"
"$PY" benchmarks/gpu_search.py config "$OUT" "$DATA" "$EPOCHS" || failed+=("search config")
started=$SECONDS
timeout -s INT "$SEARCH_SECONDS" "$PY" -m nasbench search --config "$OUT/search.json" \
    --run-dir "$OUT/search"
status=$?
# 124: the time limit stopped the search, as designed; the report reads what it finished.
if [ "$status" -ne 0 ] && [ "$status" -ne 124 ]; then failed+=("search (exit $status)"); fi
"$PY" benchmarks/gpu_search.py report "$OUT" "$EPOCHS" "$((SECONDS - started))" \
    || failed+=("search report")

echo; echo "gpu.sh: done in $((SECONDS / 60)) min $((SECONDS % 60)) s; outputs in $OUT"
if [ ${#failed[@]} -gt 0 ]; then
    echo "gpu.sh: failed: ${failed[*]}" >&2
    exit 1
fi
