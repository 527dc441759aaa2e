#!/usr/bin/env bash
# Builds .gpu/qembed-gpu.tar.xz: what a GPU machine without a JDK or a build tool needs for the GPU step
# (bench/gpu-session.sh): a small Java 25 runtime made with jlink, the engine's and the bindings' classes and
# test classes, the forward-pass benchmark (benchmarks module), their dependencies, and the kernels compiled
# ahead by NVRTC for sm_80 and sm_90 as the backend's kernel cache. Run it from a checkout with JDK 25 and
# NVRTC (no GPU needed):
#
#   JAVA_HOME=/path/to/jdk-25 VIRTUAL_ENV=/path/to/venv bench/gpu-prepare.sh
#
# NVRTC is found as the backend finds it (QEMBED_CUDA_LIB_DIR, LD_LIBRARY_PATH, the CUDA wheels of
# $VIRTUAL_ENV, ...); it should be the GPU machine's version (the cache is keyed by it, and another version
# compiles there instead): `pip install nvidia-cuda-nvrtc==13.0.88` gives the one of PyTorch 2.11 for CUDA 13.
# .gpu/ must be ignored by git (it is, in .gitignore). The engine's copy of tokenizer.json is left out: it is
# the fixture's file, which travels with the checkout, and gpu-session.sh puts it back. The runtime is linked
# uncompressed and the whole folder packed with xz, which is smaller than jlink's own compression. It prints
# what travels in all (bundle, tracked and untracked files) and fails when that leaves less than 8 MiB of
# the 64 MiB that may travel to the GPU machine.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
: "${JAVA_HOME:?set JAVA_HOME to a JDK 25}"
out=.gpu
bundle=$out/qembed-gpu.tar.xz
limit_mib=64
margin_mib=8

if ! git check-ignore -q "$out/"; then
  echo "gpu-prepare: $out/ is not ignored by git; add it to .gitignore first" >&2
  exit 2
fi

echo "building the engine, its test classes, the benchmark harness and the test class path"
./mvnw -B -ntp -q -pl engine,benchmarks -am package -DskipTests dependency:copy-dependencies \
  -Dmdep.includeScope=test -DoutputDirectory=target/gpu-lib
if ! cmp -s engine/target/classes/io/qembed/model/tokenizer.json fixtures/tiny-qwen3-embedding/tokenizer.json; then
  echo "gpu-prepare: the engine's tokenizer.json differs from the fixture's; gpu-session.sh relies on them being the same" >&2
  exit 2
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
dir=$stage/qembed-gpu
mkdir -p "$dir/lib"

cp engine/target/gpu-lib/*.jar "$dir/lib/"
cp -r engine/target/classes "$dir/engine-classes"
rm "$dir/engine-classes/io/qembed/model/tokenizer.json"
cp -r engine/target/test-classes "$dir/engine-test-classes"
cp -r cuda-bindings/target/test-classes "$dir/cuda-bindings-test-classes"
# CudaForwardBenchmark and its helpers; the JMH benchmarks beside them are not run there.
cp -r benchmarks/target/classes "$dir/benchmarks-classes"
classpath="$dir/cuda-bindings-test-classes:$dir/engine-test-classes:$dir/engine-classes:$dir/lib/*"


echo "compiling the kernels for sm_80 and sm_90"
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -cp "$classpath" \
  io.qembed.backend.cuda.PrecompileKernels "$dir/kernel-cache" sm_80,sm_90

echo "linking a Java runtime"
"$JAVA_HOME/bin/jlink" \
  --add-modules java.base,java.logging,java.management,java.naming,jdk.incubator.vector,jdk.management,jdk.unsupported,jdk.zipfs \
  --strip-debug --no-man-pages --no-header-files --compress=zip-0 \
  --add-options="--add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED" \
  --output "$dir/runtime" 2>&1 | grep -v "WARNING: Using incubator modules" || true
strip --strip-unneeded "$dir/runtime/lib/server/libjvm.so" "$dir"/runtime/lib/*.so 2>/dev/null || true

echo "packing $bundle"
mkdir -p "$out"
rm -f "$bundle"
tar -C "$stage" -cf - qembed-gpu | xz -9e -T0 > "$bundle"

bundle_bytes=$(stat -c %s "$bundle")
tracked_bytes=$(git ls-files -z | xargs -0 stat -c %s | awk '{s += $1} END {print s}')
untracked_bytes=$(git ls-files -z --others --exclude-standard | xargs -0 -r stat -c %s | awk '{s += $1} END {print s + 0}')
total=$((bundle_bytes + tracked_bytes + untracked_bytes))
awk -v b="$bundle_bytes" -v t="$tracked_bytes" -v u="$untracked_bytes" -v all="$total" -v limit="$limit_mib" 'BEGIN {
  m = 1048576
  printf "bundle %.1f MiB; with the checkout (%.1f MiB tracked, %.1f MiB untracked) %.1f MiB travel, %.1f MiB under the %d MiB limit\n",
    b / m, t / m, u / m, all / m, limit - all / m, limit
}'
if ((total > (limit_mib - margin_mib) * 1048576)); then
  echo "gpu-prepare: less than $margin_mib MiB left under the $limit_mib MiB that may travel; largest files:" >&2
  { git ls-files -z; git ls-files -z --others --exclude-standard; } | xargs -0 -r stat -c '%s %n' | sort -rn | head -5 >&2
  exit 1
fi
