#!/usr/bin/env bash
# Runs the CUDA tests and the H200 benchmark on a GPU machine that has no JDK and no build tool, from a
# checkout carrying .gpu/qembed-gpu.tar.xz (made by bench/gpu-prepare.sh). Python 3 with torch,
# transformers and safetensors must be there for the PyTorch side.
#
#   bench/gpu-session.sh STEP...        steps, in the order given:
#     tests    GpuTestMain: every test of the CUDA packages (exit 1 = failure, 2 = skipped: no usable GPU)
#     0.6b|4b|8b|tiny
#              for that shape: a random checkpoint written once (Java, RandomModel); the engine's forward
#              pass timed on 64x512, 256x128 and 4x8192 tokens (and 1x32768 for 4b) with the cuBLAS BF16
#              ceiling (CudaForwardBenchmark); PyTorch + transformers (BF16, SDPA) timed on the same
#              checkpoint and token ids, and its BF16 matmul rate; the engine's vectors of the first
#              sequences of each batch compared (cosine) with PyTorch's in FP32 (judged: at least 0.9999)
#              and in BF16 (reported); a summary
#   --dry-run  the same steps on the CPU: the engine's CPU backend, PyTorch on the CPU, the tiny shape on
#              small batches (checks everything but the GPU itself)
#
# Environment: QEMBED_GPU_WORK (unpacked bundle, checkpoints, results; default /tmp/qembed-gpu),
# OUT (results; default $QEMBED_GPU_WORK/out), PYTHON (default python3), BATCHES (overrides the batch list),
# QEMBED_JAVA_OPTS (extra JVM options).
#
# What comes back in $OUT: session.log (everything printed), tests.log, summary-SHAPE.json (tokens/s,
# ratio to PyTorch, fraction of the ceiling, cosines) and details-SHAPE.tar.gz (every log, JSON and
# vector file of the shape). Each step is bounded by `timeout`, so that a hang still leaves its logs.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

dry_run=false
steps=()
for arg in "$@"; do
  case $arg in
    --dry-run) dry_run=true ;;
    tests|tiny|0.6b|4b|8b) steps+=("$arg") ;;
    *) echo "gpu-session: unknown step '$arg' (tests, tiny, 0.6b, 4b, 8b, --dry-run)" >&2; exit 2 ;;
  esac
done
if ((${#steps[@]} == 0)); then
  echo "usage: bench/gpu-session.sh [--dry-run] STEP... (tests, tiny, 0.6b, 4b, 8b)" >&2
  exit 2
fi

work=${QEMBED_GPU_WORK:-/tmp/qembed-gpu}
out=${OUT:-$work/out}
export PYTHONUNBUFFERED=1
python=${PYTHON:-python3}
mkdir -p "$out" "$work"
started=$(date +%s)
say() { echo "[gpu-session +$(($(date +%s) - started))s] $*"; }

# Steps; each sets status=1 when something in it fails.
run_tests() {
  say "GpuTestMain"
  timeout 240 "$java" ${QEMBED_JAVA_OPTS:-} -cp "$cp_java" io.qembed.backend.cuda.GpuTestMain "$root/fixtures" \
    > "$out/tests.log" 2>&1
  local rc=$?
  tail -40 "$out/tests.log"
  say "GpuTestMain exit $rc (0 passed, 1 failed, 2 skipped: no usable GPU, 124 timed out)"
  if ((rc != 0)) && ! ($dry_run && ((rc == 2))); then # without a GPU, the GPU tests skip
    status=1
  fi
}

run_shape() {
  local shape=$1
  local batches=${BATCHES:-64x512,256x128,4x8192}
  [[ -z ${BATCHES:-} && $shape == 4b ]] && batches=$batches,1x32768
  [[ -z ${BATCHES:-} && ($shape == tiny || $dry_run == true) ]] && batches=4x64,2x128,1x512
  local model=$work/model-$shape
  local d=$work/results-$shape
  rm -rf "$d"
  mkdir -p "$d"
  local reps=10
  $dry_run && reps=3

  say "$shape: engine ($backend) on $batches, checkpoint $model"
  timeout 420 "$java" ${QEMBED_JAVA_OPTS:-} -cp "$cp_java" io.qembed.backend.cuda.CudaForwardBenchmark \
    --shape "$shape" --model "$model" --backend "$backend" --batches "$batches" --reps "$reps" \
    --json "$d/qembed.json" --vectors "$d/qembed-vectors.jsonl" 2>&1 | tee "$d/qembed.log"
  local rc=${PIPESTATUS[0]}
  say "$shape: engine exit $rc"
  if ((rc != 0)) || [[ ! -f $model/config.json ]]; then
    status=1
    pack_details "$shape" "$d"
    return
  fi

  say "$shape: PyTorch ($device, bfloat16, sdpa) on the same checkpoint and batches"
  timeout 240 "$python" bench/torch_reference.py bench --model "$model" --device "$device" --dtype bfloat16 \
    --shapes "$batches" --reps "$reps" --json "$d/pytorch.json" > /dev/null 2> >(tee "$d/pytorch.log" >&2) \
    || status=1
  if ! $dry_run; then
    timeout 60 "$python" bench/torch_reference.py gemm --device cuda --sizes 8192x8192x8192 \
      --json "$d/pytorch-gemm.json" > /dev/null || status=1
  fi

  # FP32 is the tighter reference (ours differs from it only by rounding the products' inputs to BF16);
  # BF16 is what PyTorch serves, and its flash kernel also covers inputs that FP32 SDPA may not fit.
  local dtype
  for dtype in float32 bfloat16; do
    say "$shape: PyTorch ($dtype) vectors of the engine's sequences"
    timeout 180 "$python" bench/torch_reference.py embed --model "$model" --device "$device" --dtype "$dtype" \
      --input "$d/qembed-vectors.jsonl" --output "$d/pytorch-$dtype-vectors.jsonl" \
      --json "$d/pytorch-embed-$dtype.json" > /dev/null || status=1
    # The threshold is for FP32; the BF16 comparison is reported, not judged.
    local threshold=0.9999
    [[ $dtype == bfloat16 ]] && threshold=0
    "$python" bench/torch_reference.py compare "$d/qembed-vectors.jsonl" "$d/pytorch-$dtype-vectors.jsonl" \
      --min-cosine $threshold --json "$d/compare-$dtype.json" \
      | grep -E '"(count|min_cosine|mean_cosine|worst_id|passed|why)"'
    ((PIPESTATUS[0] == 0)) || status=1
  done

  local extra=()
  [[ -f $d/pytorch.json ]] && extra+=(--torch "$d/pytorch.json")
  [[ -f $d/pytorch-gemm.json ]] && extra+=(--gemm "$d/pytorch-gemm.json")
  [[ -f $d/compare-float32.json ]] && extra+=(--compare "$d/compare-float32.json")
  [[ -f $d/compare-bfloat16.json ]] && extra+=(--compare "$d/compare-bfloat16.json")
  "$python" bench/torch_reference.py summary --ours "$d/qembed.json" "${extra[@]}" \
    --json "$out/summary-$shape.json" || status=1
  pack_details "$shape" "$d"
}

pack_details() {
  tar -C "$(dirname "$2")" -czf "$out/details-$1.tar.gz" "$(basename "$2")"
  say "$1: details in details-$1.tar.gz ($(du -h "$out/details-$1.tar.gz" | cut -f1))"
}

main() {
  # The Java side, unpacked once.
  bundle=$root/.gpu/qembed-gpu.tar.xz
  app=$work/qembed-gpu
  if [[ ! -x $app/runtime/bin/java ]]; then
    [[ -f $bundle ]] || { echo "gpu-session: $bundle is missing; make it with bench/gpu-prepare.sh" >&2; return 2; }
    say "unpacking $bundle"
    tar -C "$work" -xJf "$bundle" || return 2
    # gpu-prepare.sh leaves the engine's tokenizer.json out: it is this fixture file.
    cp fixtures/tiny-qwen3-embedding/tokenizer.json "$app/engine-classes/io/qembed/model/tokenizer.json" || return 2
  fi
  java=$app/runtime/bin/java
  cp_java="$app/cuda-bindings-test-classes:$app/engine-test-classes:$app/engine-classes:$app/lib/*"

  say "machine: $(uname -m), $(nproc) cores; $("$java" -version 2>&1 | grep -v WARNING | head -1)"
  if command -v nvidia-smi > /dev/null; then
    nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader
  fi
  "$python" -c 'import torch, transformers; print("python: torch", torch.__version__, "transformers", transformers.__version__, "cuda", torch.cuda.is_available())'

  if $dry_run; then
    backend=cpu device=cpu
    export QEMBED_JAVA_OPTS="${QEMBED_JAVA_OPTS:--Xmx2g}"
  else
    backend=cuda device=cuda
  fi

  status=0
  for step in "${steps[@]}"; do
    case $step in
      tests) run_tests ;;
      *) run_shape "$step" ;;
    esac
  done
  say "done, status $status"
  return $status
}

main 2>&1 | tee -a "$out/session.log"
exit "${PIPESTATUS[0]}"
