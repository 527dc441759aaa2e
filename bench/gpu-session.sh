#!/usr/bin/env bash
# The whole GPU step in one command, on a GPU machine that has no JDK and no build tool, from a checkout
# carrying .gpu/qembed-gpu.tar.xz (bench/gpu-prepare.sh). bench/README.md says how it is called and what
# to do with each outcome.
#
#   bench/gpu-session.sh [--dry-run] [--deadline-s 570 (dry run: 900)] [--stages environment,tests,0.6b,4b]
#
# Stages, in order, each bounded by the time left before the deadline:
#   environment  the machine, GPU, driver, where the CUDA libraries were looked for and found, ldconfig,
#                the variables, Python and PyTorch; unpacks the bundle and starts writing the random
#                checkpoints in the background (they are CPU and disk work, done while the GPU tests run)
#   tests        the GPU tests only (GpuTestMain), one JVM per test class, with QEMBED_CUDA_SYNC=1 so that a
#                faulting kernel is named; each test's start and outcome streamed to tests.jsonl
#   0.6b         our forward pass timed on 64x512, 256x128, 4x8192 tokens with the cuBLAS ceiling; our vectors
#                compared with PyTorch + transformers' in FP32 (judged: cosine at least 0.9999); PyTorch (BF16,
#                SDPA) timed on the same checkpoint and ids, and its BF16 matmul rate; the vectors in BF16 (reported)
#   4b           the same on the 4B shape (and 1x32768 tokens), only if the 0.6B comparison passed; which
#                batches, and how long each is timed, follow from the time left
# --dry-run: the same on the CPU (our CPU backend, PyTorch on the CPU, timed in FP32; the GPU tests skip), with
# small batches of the 0.6B shape and the tiny shape standing in for the 4B: checks everything but the GPU.
# It allows each stage twice the time.
#
# Everything lands in $OUT as it happens, at most 6 files: session.log (all output, stage timings),
# environment.txt, tests.jsonl, summary.json (stages, tests, figures; rewritten after each stage),
# details.tar.gz (every log, JSON and vector file; rewritten after each stage), jvm-crash.log (the first JVM
# crash, if any; later ones go into details). Exit status: 0 every stage passed, 1 a stage failed or was cut
# short, 2 bad usage.
#
# Environment: OUT (default $QEMBED_GPU_WORK/out), QEMBED_GPU_WORK (unpacked bundle, checkpoints, results;
# default /tmp/qembed-gpu), PYTHON (default python3), QEMBED_JAVA_OPTS (extra JVM options).
# For checking this script: QEMBED_GPU_FAULT=STAGE[:SECONDS] sends SIGSEGV to the first JVM of that stage
# still running after SECONDS (default 3), as a crash would.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" || exit 2

all_stages=(environment tests 0.6b 4b)
dry_run=false
deadline_s=
stages=("${all_stages[@]}")
usage() {
  echo "usage: bench/gpu-session.sh [--dry-run] [--deadline-s SECONDS] [--stages environment,tests,0.6b,4b]" >&2
  exit 2
}
while (($# > 0)); do
  case $1 in
    --dry-run) dry_run=true ;;
    --deadline-s) [[ ${2:-} =~ ^[0-9]+$ ]] || usage; deadline_s=$2; shift ;;
    --stages)
      [[ -n ${2:-} ]] || usage
      IFS=, read -r -a stages <<< "$2"
      for s in "${stages[@]}"; do [[ " ${all_stages[*]} " == *" $s "* ]] || { echo "gpu-session: unknown stage '$s'" >&2; usage; }; done
      shift ;;
    *) echo "gpu-session: unknown argument '$1'" >&2; usage ;;
  esac
  shift
done

# A dry run on a development machine's CPU (2 cores, shared) is slower than the GPU machine: twice the
# time per stage, and 900 s in all.
cap_scale=1
$dry_run && cap_scale=2
: "${deadline_s:=$($dry_run && echo 900 || echo 570)}"

work=${QEMBED_GPU_WORK:-/tmp/qembed-gpu}
out=${OUT:-$work/out}
python=${PYTHON:-python3}
export PYTHONUNBUFFERED=1
mkdir -p "$out" "$work" || exit 2
# A new session's files, not appended to an earlier one's.
rm -rf "$out"/{session.log,environment.txt,tests.jsonl,summary.json,details.tar.gz,jvm-crash.log} "$work/crashes" \
  "$work"/results-* "$work"/{stages.tsv,checkpoints.log,unpack.log,report.txt,pytorch-gemm.json,kernel-cache.txt}
mkdir -p "$work/crashes"
exec > >(tee -a "$out/session.log") 2>&1 3>&1 # fd 3: the session log, also where a command's output goes elsewhere

# No core files (minutes of writing for a large heap); a crashed JVM still aborts, so its exit status (134)
# tells a crash from a failure (1).
ulimit -c 0
started=$(date +%s)
deadline=$((started + deadline_s))
reserve=15 # seconds kept at the end for the summary and the details
say() { echo "[gpu-session +$(($(date +%s) - started))s] $*"; }
wanted() { [[ " ${stages[*]} " == *" $1 "* ]]; }

if $dry_run; then
  # PyTorch is timed in FP32 on the CPU: BF16 products on a CPU without BF16 units are emulated and take
  # minutes, and CPU timings mean nothing here anyway. The BF16 vectors are still compared.
  backend=cpu device=cpu bench_dtype=float32
  export QEMBED_JAVA_OPTS="${QEMBED_JAVA_OPTS:--Xmx3g}"
else
  backend=cuda device=cuda bench_dtype=bfloat16
fi
fault=${QEMBED_GPU_FAULT:-}
fault_stage=${fault%%:*}
fault_tenths=$(awk -v f="$fault" 'BEGIN { print (index(f, ":") ? int(substr(f, index(f, ":") + 1) * 10) : 30) }')
fault_done=false

app=$work/qembed-gpu
java=$app/runtime/bin/java
cp_java="$app/benchmarks-classes:$app/cuda-bindings-test-classes:$app/engine-test-classes:$app/engine-classes:$app/lib/*"
export QEMBED_CUDA_CACHE=$work/kernel-cache
: > "$work/stages.tsv"
writer_pid=

# ---- stage bookkeeping -----------------------------------------------------------------------------------

stage_name='' stage_end=0 stage_status='' stage_note=''
fail() { stage_status=failed; stage_note+="${stage_note:+; }$*"; say "FAILED: $*"; }
note() { stage_note+="${stage_note:+; }$*"; }

# run_stage NAME CAP_SECONDS MIN_SECONDS FUNCTION: runs the stage with at most CAP seconds (less when the
# deadline is nearer), skips it when fewer than MIN seconds are left; records status, time and notes.
run_stage() {
  local name=$1 cap=$(($2 * cap_scale)) min=$3 fn=$4
  wanted "$name" || return 0
  local now left
  now=$(date +%s)
  left=$((deadline - reserve - now))
  stage_name=$name stage_status=passed stage_note=
  if ((left < min)); then
    stage_status=skipped
    note "not run: ${left} s left, it needs at least ${min} s"
  elif [[ $name == 4b ]] && wanted 0.6b && ! shape_passed 0.6b; then
    stage_status=skipped
    note "not run: the 0.6B comparison did not pass"
  else
    stage_end=$((now + (cap < left ? cap : left)))
    say "== stage $name: at most $((stage_end - now)) s"
    "$fn"
  fi
  local seconds=$(($(date +%s) - now))
  printf '%s\t%s\t%s\t%s\n' "$name" "$stage_status" "$seconds" "$stage_note" >> "$work/stages.tsv"
  say "== stage $name: $stage_status in ${seconds} s${stage_note:+ ($stage_note)}"
  write_results
}

# time_left CAP: the seconds a command may run, at most CAP and not past the stage's end; fails when none.
time_left() {
  local left=$((stage_end - $(date +%s)))
  ((left > $1)) && left=$1
  echo "$left"
  ((left >= 1))
}

# out_of_time STEP: true (and the stage failed, naming STEP) when the stage has no time left for it.
out_of_time() {
  time_left 1 > /dev/null && return 1
  fail "not run, out of time: $1"
}

# bounded CAP COMMAND...: runs COMMAND for at most time_left CAP seconds; exit 124 (or 137) when stopped.
bounded() {
  local left
  left=$(time_left "$1") || { say "no time left for: $2"; return 124; }
  shift
  timeout -k 5 "$left" "$@"
}

# The first JVM of the faulted stage still running after the fault's delay gets SIGSEGV (QEMBED_GPU_FAULT).
# $1 is the pid of the timeout command that runs it.
maybe_fault() {
  [[ $fault_stage == "$stage_name" && $fault_done == false ]] || return 0
  local i
  for ((i = 0; i < fault_tenths; i++)); do
    kill -0 "$1" 2> /dev/null || return 0
    sleep 0.1
  done
  local jvm
  jvm=$(pgrep -P "$1" | head -1)
  if [[ -n $jvm ]] && kill -SEGV "$jvm" 2> /dev/null; then
    fault_done=true
    say "fault injected: SIGSEGV to the JVM (pid $jvm)"
  fi
}

# The JVM options every run gets: the first crash report straight into $OUT, later ones into the details.
jvm_options() {
  local crash_file=$out/jvm-crash.log
  [[ -e $crash_file ]] && crash_file=$work/crashes/hs_err_pid%p.log
  echo "-XX:ErrorFile=$crash_file ${QEMBED_JAVA_OPTS:-}"
}

# jrun CAP CLASS ARGS...: a JVM on the bundle's class path, bounded; a crash or a stop for time is named.
jrun() {
  local cap=$1 class=$2
  shift 2
  [[ -x $java ]] || { say "no Java runtime at $java (the bundle was not unpacked)"; return 127; }
  local left
  left=$(time_left "$cap") || { say "no time left for ${class##*.}"; return 124; }
  # shellcheck disable=SC2046 # the options are words
  timeout -k 5 "$left" "$java" $(jvm_options) -cp "$cp_java" "$class" "$@" &
  local pid=$!
  maybe_fault "$pid"
  wait "$pid"
  local rc=$?
  case $rc in
    124 | 137) say "${class##*.} stopped: out of time" >&3 ;;
    134 | 139) say "${class##*.} crashed (exit $rc): see jvm-crash.log, or crashes/ in details.tar.gz" >&3 ;;
  esac
  return "$rc"
}

# ---- environment -----------------------------------------------------------------------------------------

section() {
  local title=$1
  shift
  echo
  echo "## $title"
  echo "\$ $*"
  bounded 60 bash -c "$*" 2>&1
  local rc=$?
  ((rc == 0)) || echo "(exit $rc)"
}

unpack_bundle() {
  local bundle=$root/.gpu/qembed-gpu.tar.xz
  [[ -f $bundle ]] || { fail "$bundle is missing: make it with bench/gpu-prepare.sh and carry .gpu"; return 1; }
  rm -rf "$app" "$QEMBED_CUDA_CACHE"
  if ! bounded 120 tar -C "$work" -xJf "$bundle" 2> "$work/unpack.log"; then
    say "tar -xJf failed ($(head -c 200 "$work/unpack.log")); unpacking with Python's tarfile"
    rm -rf "$app"
    bounded 180 "$python" - "$bundle" "$work" << 'EOF' || { fail "the bundle could not be unpacked"; return 1; }
import sys, tarfile
with tarfile.open(sys.argv[1], "r:xz") as bundle:
    bundle.extractall(sys.argv[2], **({"filter": "tar"} if hasattr(tarfile, "tar_filter") else {}))
EOF
  fi
  # gpu-prepare.sh leaves the engine's tokenizer.json out: it is this fixture file.
  cp fixtures/tiny-qwen3-embedding/tokenizer.json "$app/engine-classes/io/qembed/model/tokenizer.json" || fail "tokenizer.json"
  mv "$app/kernel-cache" "$QEMBED_CUDA_CACHE" || fail "the bundle holds no kernel cache"
  say "bundle unpacked: $(du -sh "$app" | cut -f1), $(find "$QEMBED_CUDA_CACHE" -type f | wc -l) precompiled kernel files"
}

# The random checkpoints of the shape stages, written one after the other beside the GPU tests.
start_checkpoint_writer() {
  local shapes=()
  wanted 0.6b && shapes+=(0.6b)
  wanted 4b && shapes+=("$(real_shape 4b)")
  ((${#shapes[@]} > 0)) || return 0
  local threads=$(($(nproc) / 2))
  ((threads > 0)) || threads=1
  (
    for shape in "${shapes[@]}"; do
      # shellcheck disable=SC2086 # the options are words
      "$java" -XX:ErrorFile="$work/crashes/hs_err_pid%p.log" -XX:ActiveProcessorCount=$threads \
        ${QEMBED_JAVA_OPTS:-} -cp "$cp_java" io.qembed.backend.cuda.CudaForwardBenchmark --checkpoint-only \
        --shape "$shape" --model "$work/model-$shape" &
      echo $! > "$work/writer-jvm.pid"
      wait $! || echo "checkpoint $shape: exit $?"
    done
  ) >> "$work/checkpoints.log" 2>&1 &
  writer_pid=$!
  say "writing the ${shapes[*]} checkpoints in the background ($threads threads; checkpoints.log)"
}

# What every later stage needs: the bundle unpacked, the checkpoints on their way.
prepare() {
  say "bundle: unpacking"
  unpack_bundle && start_checkpoint_writer
}

stage_environment() {
  local record=$out/environment.txt
  {
    echo "# qembed GPU step, $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $($dry_run && echo 'dry run on the CPU' || echo 'on the GPU')"
    section "machine" 'uname -a; nproc; free -g; df -h "'"$work"'" | tail -1'
    section "GPU" 'nvidia-smi; nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap,clocks.sm,clocks.max.sm --format=csv'
    section "driver folder" 'ls -l /usr/local/nvidia/lib64 2>&1 | grep -E "libcuda|libnvidia-ml|No such" ; ls /dev/nvidia* 2>&1'
    section "ldconfig -p, CUDA libraries" 'ldconfig -p | grep -E "libcuda|libcublas|libnvrtc|libnvidia-ml"'
    section "variables" 'env | grep -E "^(PATH|LD_LIBRARY_PATH|CUDA_[A-Z_]*|NVIDIA_[A-Z_]*|VIRTUAL_ENV|CONDA_PREFIX|HOME|PYTHON[A-Z_]*|QEMBED_[A-Z_]*|XDG_CACHE_HOME|OUT)=" | sort'
    section "Python and PyTorch" "$python bench/torch_reference.py environment"
    # shellcheck disable=SC2016 # expanded by the shell that runs the section
    section "tools" 'for t in xz tar nvcc python3; do command -v $t || echo "$t: not found"; done; nvcc --version 2>&1 | tail -2'
  } >> "$record"
  prepare
  if [[ -x $java ]]; then
    {
      echo
      echo "## Java, CUDA libraries, kernel cache"
      "$java" -version 2>&1
    } >> "$record"
    jrun 120 io.qembed.backend.cuda.GpuTestMain --environment >> "$record" 2>&1 || fail "GpuTestMain --environment: exit $?"
    grep -E "^CUDA backend:|^NVRTC:" "$record" | while read -r line; do say "$line"; done
  fi
  section "ldconfig -p, all" 'ldconfig -p' >> "$record"
  if ! $dry_run && ! grep -q "^CUDA backend: Availability\[available=true" "$record"; then
    fail "the CUDA backend cannot run here: environment.txt says why"
  fi
}

# ---- tests -----------------------------------------------------------------------------------------------

stage_tests() {
  local results=$out/tests.jsonl
  local cache_before
  cache_before=$(find "$QEMBED_CUDA_CACHE" -type f 2> /dev/null | wc -l)
  local classes
  # shellcheck disable=SC2046 # the options are words
  classes=$(bounded 60 "$java" $(jvm_options) -cp "$cp_java" io.qembed.backend.cuda.GpuTestMain --list) \
    || { fail "GpuTestMain --list: exit $?"; return; }
  say "GPU test classes: ${classes//$'\n'/ }"
  local class rc
  for class in $classes; do
    if (($(date +%s) + 10 > stage_end)); then
      fail "${class##*.} not run: out of time"
      printf '{"event":"not-run","test":"%s","reason":"out of time"}\n' "${class##*.}" >> "$results"
      continue
    fi
    QEMBED_CUDA_SYNC=1 jrun 300 io.qembed.backend.cuda.GpuTestMain --class "$class" --results "$results" "$root/fixtures"
    rc=$?
    case $rc in
      0) ;;
      1) fail "${class##*.}: tests failed" ;;
      124 | 137) fail "${class##*.}: stopped, out of time"
        printf '{"event":"stopped","test":"%s","reason":"out of time"}\n' "${class##*.}" >> "$results" ;;
      *) fail "${class##*.}: JVM exit $rc"
        printf '{"event":"crashed","test":"%s","exit":%d}\n' "${class##*.}" "$rc" >> "$results" ;;
    esac
  done
  local cache_after
  cache_after=$(find "$QEMBED_CUDA_CACHE" -type f 2> /dev/null | wc -l)
  ls -l "$QEMBED_CUDA_CACHE" > "$work/kernel-cache.txt" 2>&1
  note "kernel cache: $cache_before files shipped, $((cache_after - cache_before)) compiled here"
}

# ---- one model shape: our benchmark, PyTorch's, the vector comparison --------------------------------------

# The dry run's stand-in for the 4B shape is the tiny one (a CPU cannot run the 4B in minutes).
real_shape() { if $dry_run && [[ $1 == 4b ]]; then echo tiny; else echo "$1"; fi; }
shape_passed() { [[ -f $work/results-$1/compare-float32.json ]] && grep -q '"passed": true' "$work/results-$1/compare-float32.json"; }

# Waits, within the stage's time, for the background writer to finish this checkpoint.
wait_for_checkpoint() {
  local model=$1
  while [[ ! -f $model/config.json ]] && [[ -n $writer_pid ]] && kill -0 "$writer_pid" 2> /dev/null; do
    if (($(date +%s) + 60 > stage_end)); then
      return 1
    fi
    sleep 1
  done
}

# batches and budget-s (seconds of timed passes per batch and side) for the time this stage has.
plan_shape() {
  local label=$1 seconds=$2
  if $dry_run; then
    [[ $label == 4b ]] && batches=4x64,2x128,1x512 || batches=2x32,1x64
    budget=2
    return
  fi
  # Loading, the ceiling, PyTorch's start and two PyTorch embeddings take about 120 s (first guess, to be
  # measured); each batch then costs about 1.5 x budget on each side.
  local fixed=120
  if [[ $label == 4b ]]; then
    batches=64x512,1x32768,4x8192,256x128
    ((seconds < 300)) && batches=64x512,1x32768,4x8192
    ((seconds < 240)) && batches=64x512,1x32768
    fixed=150
  else
    batches=64x512,256x128,4x8192
  fi
  local n
  n=$(tr ',' '\n' <<< "$batches" | wc -l)
  budget=$(((seconds - fixed) / (3 * n)))
  ((budget > 10)) && budget=10
  ((budget < 2)) && budget=2
}

stage_shape() {
  local label=$stage_name
  local shape
  shape=$(real_shape "$label")
  local model=$work/model-$shape d=$work/results-$label
  mkdir -p "$d"
  if ! wait_for_checkpoint "$model"; then
    fail "the $shape checkpoint was not written in time (checkpoints.log)"
    return
  fi
  local batches budget
  plan_shape "$label" $((stage_end - $(date +%s)))
  say "$label: shape $shape, batches $batches, $budget s of timed passes per batch and side"
  jrun 420 io.qembed.backend.cuda.CudaForwardBenchmark --shape "$shape" --model "$model" --backend "$backend" \
    --batches "$batches" --reps 10 --budget-s "$budget" --json "$d/qembed.json" --vectors "$d/qembed-vectors.jsonl" \
    > >(tee "$d/qembed.log") 2>&1
  local rc=$?
  ((rc == 0)) || fail "our benchmark: exit $rc"
  if [[ ! -f $model/config.json || ! -s $d/qembed-vectors.jsonl ]]; then
    summarize_shape "$label"
    return
  fi
  # Correctness first: the FP32 comparison, which the 4B stage waits for, before PyTorch's speed.
  compare_with_pytorch float32 0.9999
  if ! out_of_time "PyTorch bench"; then
    say "$label: PyTorch ($device, $bench_dtype, sdpa) on the same checkpoint and batches"
    bounded 300 "$python" bench/torch_reference.py bench --model "$model" --device "$device" --dtype "$bench_dtype" \
      --shapes "$batches" --reps 10 --budget-s "$budget" --json "$d/pytorch.json" > /dev/null 2> >(tee "$d/pytorch.log" >&2) \
      || fail "PyTorch bench: exit $?"
  fi
  if ! $dry_run && [[ $label == 0.6b ]] && ! out_of_time "PyTorch gemm"; then
    bounded 60 "$python" bench/torch_reference.py gemm --device cuda --sizes 8192x8192x8192 \
      --json "$work/pytorch-gemm.json" > /dev/null || fail "PyTorch gemm: exit $?"
  fi
  compare_with_pytorch bfloat16 0 # reported, not judged
  summarize_shape "$label"
}

# compare_with_pytorch DTYPE MIN_COSINE: PyTorch's vectors of our benchmark's sequences in DTYPE, against ours.
# FP32 is the tighter reference (ours differs from it only by rounding the products' inputs to BF16); BF16
# is what PyTorch serves, and its flash kernel also covers inputs that FP32 SDPA may not fit.
compare_with_pytorch() {
  local dtype=$1 threshold=$2 label=$stage_name
  local d=$work/results-$label model
  model=$work/model-$(real_shape "$label")
  out_of_time "PyTorch $dtype vectors" && return
  say "$label: PyTorch ($dtype) vectors of our sequences"
  bounded 240 "$python" bench/torch_reference.py embed --model "$model" --device "$device" --dtype "$dtype" \
    --input "$d/qembed-vectors.jsonl" --output "$d/pytorch-$dtype-vectors.jsonl" \
    --json "$d/pytorch-embed-$dtype.json" > /dev/null || fail "PyTorch embed $dtype: exit $?"
  "$python" bench/torch_reference.py compare "$d/qembed-vectors.jsonl" "$d/pytorch-$dtype-vectors.jsonl" \
    --min-cosine "$threshold" --json "$d/compare-$dtype.json" | grep -E '"(count|min_cosine|mean_cosine|worst_id|passed)"'
  ((PIPESTATUS[0] == 0)) || fail "vectors against PyTorch $dtype: below $threshold or missing"
}

summarize_shape() {
  local d=$work/results-$1
  [[ -f $d/qembed.json ]] || return 0
  local extra=()
  [[ -f $d/pytorch.json ]] && extra+=(--torch "$d/pytorch.json")
  [[ -f $work/pytorch-gemm.json ]] && extra+=(--gemm "$work/pytorch-gemm.json")
  [[ -f $d/compare-float32.json ]] && extra+=(--compare "$d/compare-float32.json")
  [[ -f $d/compare-bfloat16.json ]] && extra+=(--compare "$d/compare-bfloat16.json")
  "$python" bench/torch_reference.py summary --ours "$d/qembed.json" "${extra[@]}" --json "$d/summary.json" > /dev/null \
    || fail "summary: exit $?"
}

# ---- results -----------------------------------------------------------------------------------------------

# summary.json and details.tar.gz, replaced whole after every stage.
write_results() {
  "$python" bench/gpu_report.py --stages "$work/stages.tsv" --tests "$out/tests.jsonl" --results "$work" \
    --json "$out/summary.json" --mode "$($dry_run && echo dry-run || echo gpu)" > "$work/report.txt" 2>&1 \
    || say "gpu_report.py: exit $? ($(tail -1 "$work/report.txt"))"
  local parts=() p
  for p in "$work"/{stages.tsv,checkpoints.log,unpack.log,crashes,report.txt,pytorch-gemm.json,kernel-cache.txt} "$work"/results-*; do
    [[ -e $p ]] && parts+=("${p#"$work"/}")
  done
  if ! tar -C "$work" -czf "$work/details.tar.gz" "${parts[@]}" || ! mv -f "$work/details.tar.gz" "$out/details.tar.gz"; then
    say "details.tar.gz could not be written"
  fi
}

finish() {
  if [[ -n $writer_pid ]] && kill -0 "$writer_pid" 2> /dev/null; then
    kill "$writer_pid" "$(cat "$work/writer-jvm.pid" 2> /dev/null)" 2> /dev/null
    say "stopped the checkpoint writer"
  fi
  write_results
  cat "$work/report.txt"
  local total=$(($(date +%s) - started))
  if awk -F'\t' '$2 != "passed" { bad = 1 } END { exit !bad }' "$work/stages.tsv"; then
    say "done in ${total} s: not every stage passed (summary.json, session.log)"
    exit 1
  fi
  say "done in ${total} s: every stage passed"
  exit 0
}

say "qembed GPU session in $root; results in $out; deadline in ${deadline_s} s; stages: ${stages[*]}$($dry_run && echo ' (dry run on the CPU)')"
run_stage environment 180 10 stage_environment
if ! wanted environment; then # a rerun of later stages still needs the bundle
  stage_name=prepare stage_end=$((started + 180))
  prepare
fi
run_stage tests 240 30 stage_tests
run_stage 0.6b 240 60 stage_shape
run_stage 4b 400 100 stage_shape
finish
