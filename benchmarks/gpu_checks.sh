#!/usr/bin/env bash
# Every GPU check of scalelab in one run, sized for one device call (about 8 minutes on an H200).
#
# On a machine with CUDA, from the repository root:
#   bash benchmarks/gpu_checks.sh            results in benchmarks/results/
#   OUT=/some/dir bash benchmarks/gpu_checks.sh
# The device image has torch, numpy, typer, rich, pyyaml, matplotlib, pytest but not pydantic. Fetch
# its wheels here first (they stay out of git, `.whl/` is in .git/info/exclude):
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d .whl \
#     pydantic==2.14.4 pydantic-core==2.50.5 annotated-types==0.8.0 typing-inspection==0.4.5
# and carry `.whl` with the run. Each step has its own time limit; one failing step does not stop
# the others, and the exit status is the number of failed steps.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-benchmarks/results}"
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 MPLBACKEND=Agg
SITE=""
if compgen -G ".whl/*.whl" >/dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl || exit 99
    SITE=/tmp/site:
fi
export PYTHONPATH="${SITE}src"
failed=0
step() {  # step NAME SECONDS COMMAND...
    local name=$1 limit=$2
    shift 2
    echo "== $name (limit ${limit}s)"
    if ! timeout "$limit" "$@" 2>&1 | tee "$OUT/$name.log"; then
        echo "== $name FAILED"
        failed=$((failed + 1))
    fi
}
nvidia-smi --query-gpu=name,driver_version,memory.total,power.limit --format=csv >"$OUT/gpu.csv" 2>&1
python3 -c "import torch; print(torch.__version__, torch.version.cuda)" >>"$OUT/gpu.csv" 2>&1
step decode_gemm 120 python3 benchmarks/bench_decode_gemm_gpu.py --out "$OUT"
step lab_gpu 150 python3 benchmarks/bench_lab_gpu.py --out "$OUT/lab_gpu.json"
step calibrate_gpu 120 python3 benchmarks/bench_calibrate_gpu.py --out "$OUT/calibrate_gpu.json"
step gpu_tests 90 python3 -m pytest -q -p no:cacheprovider -m gpu tests/lab/test_gpu_bench.py tests/dist/test_gpu.py
echo "== $failed step(s) failed"
exit "$failed"
