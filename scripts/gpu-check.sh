#!/usr/bin/env bash
# The checks that need a hardware GPU, as one short run, for a machine with a GPU but no Node.js
# and no package registry. Here, first: `npm ci && npm run build:examples`, and a portable bundle of
# node, node_modules and the Vulkan loader in .portable/ (with .portable/activate.sh putting them on
# the path); copy the tree there with .portable/ and build/, then, from the repository root:
#   bash scripts/gpu-check.sh            # results under $OUT if it is set, else bench/results
#   bash scripts/gpu-check.sh --quick    # the same, fewer runs (a rehearsal; also works on lavapipe)
# It runs, in order, each step's failure reported and the next still run:
#   1. the matmul, conv and planner tests (they run the vec4 kernel with vec4Gemm 'on', which needs
#      subgroups, and the software adapters' conv kernels with convRows and wgradGemm 'on', as well
#      as 'off'), so a GPU checks them against the CPU before anything is timed;
#   2. tune-matmul at 4096²: the tiled, vec4 and subgroup kernels side by side;
#   3. `npm run bench` without the CPU reference: our rows, TF.js's, and PyTorch eager (float32) on
#      the same GPU when PyTorch with CUDA is there (the bench runs bench/torch_step.py itself);
#   4. bench/torch_step.py with TF32, for the PyTorch figure NVIDIA users get by default on matmul.
set -uo pipefail
quick=()
[[ ${1:-} == --quick ]] && quick=(--quick)
cd "$(dirname "$0")/.."
[[ -f .portable/activate.sh ]] && source .portable/activate.sh
out=${OUT:-bench/results}
mkdir -p "$out"
day=$(date +%F)
fails=0
step() {
  local name=$1
  shift
  echo "== $name: $*"
  local t0=$SECONDS
  if "$@"; then echo "== $name: ok ($((SECONDS - t0)) s)"; else echo "== $name: FAILED ($((SECONDS - t0)) s)"; fails=$((fails + 1)); fi
}
[[ -f build/bench/main.js ]] || { echo "build/ is missing: run npm run build:examples here and carry build" >&2; exit 1; }

step "kernel tests" node node_modules/vitest/vitest.mjs run test/matmul.test.ts test/conv.test.ts test/planner.test.ts
n=4096
[[ ${#quick[@]} -gt 0 ]] && n=1024
step "tune-matmul $n" node build/bench/tune-matmul.js --n "$n" --modes tiled,vec4,shared --reps 3 --json "$out/tune-matmul-$n-$day.json"
step "bench" node build/bench/main.js --no-cpu "${quick[@]}" --json "$out/wgslgrad-bench-$day.json"
if python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  step "pytorch eager tf32" python3 bench/torch_step.py --tf32 "${quick[@]}" --json "$out/pytorch-eager-tf32-$day.json"
else
  echo "== pytorch tf32: no CUDA PyTorch here, skipped"
fi
echo "== $fails step(s) failed; results in $out"
exit $((fails > 0))
