#!/usr/bin/env bash
# Builds .gpu/qembed-gpu.tar.xz: what a GPU machine without a JDK or a build tool needs to run the CUDA
# tests and benchmarks (bench/gpu-session.sh): a small Java 25 runtime made with jlink, the engine's and
# the bindings' classes and test classes, and their dependencies. Run it from a checkout with JDK 25.
#
#   JAVA_HOME=/path/to/jdk-25 bench/gpu-prepare.sh
#
# .gpu/ must be ignored by git (it is, in .gitignore). The engine's copy of tokenizer.json is left out:
# it is the same file as fixtures/tiny-qwen3-embedding/tokenizer.json, which travels with the checkout,
# and gpu-session.sh puts it back. The runtime is linked uncompressed and the whole folder packed with
# xz, which is smaller than jlink's own compression.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
: "${JAVA_HOME:?set JAVA_HOME to a JDK 25}"
out=.gpu
bundle=$out/qembed-gpu.tar.xz

if ! git check-ignore -q "$out/"; then
  echo "gpu-prepare: $out/ is not ignored by git; add it to .gitignore first" >&2
  exit 2
fi
if ! cmp -s engine/src/main/resources/io/qembed/model/tokenizer.json fixtures/tiny-qwen3-embedding/tokenizer.json; then
  echo "gpu-prepare: the engine's tokenizer.json differs from the fixture's; gpu-session.sh relies on them being the same" >&2
  exit 2
fi

echo "building the engine, its test classes and the test class path"
./mvnw -B -ntp -q -pl engine -am package -DskipTests dependency:copy-dependencies \
  -Dmdep.includeScope=test -DoutputDirectory=target/gpu-lib

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
dir=$stage/qembed-gpu
mkdir -p "$dir/lib"

echo "linking a Java runtime"
"$JAVA_HOME/bin/jlink" \
  --add-modules java.base,java.logging,java.management,java.naming,jdk.incubator.vector,jdk.management,jdk.unsupported,jdk.zipfs \
  --strip-debug --no-man-pages --no-header-files --compress=zip-0 \
  --add-options="--add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED" \
  --output "$dir/runtime" 2>&1 | grep -v "WARNING: Using incubator modules" || true
strip --strip-unneeded "$dir/runtime/lib/server/libjvm.so" "$dir"/runtime/lib/*.so 2>/dev/null || true

# The JMH jars are for the engine's JMH benchmarks only.
for jar in engine/target/gpu-lib/*.jar; do
  case $(basename "$jar") in
    jmh-*|commons-math3-*|jopt-simple-*) ;;
    *) cp "$jar" "$dir/lib/" ;;
  esac
done
cp -r engine/target/classes "$dir/engine-classes"
rm "$dir/engine-classes/io/qembed/model/tokenizer.json"
cp -r engine/target/test-classes "$dir/engine-test-classes"
cp -r cuda-bindings/target/test-classes "$dir/cuda-bindings-test-classes"

echo "packing $bundle"
mkdir -p "$out"
rm -f "$bundle"
tar -C "$stage" -cf - qembed-gpu | xz -9e -T0 > "$bundle"

bundle_bytes=$(stat -c %s "$bundle")
tracked_bytes=$(git ls-files -z | xargs -0 stat -c %s | awk '{s += $1} END {print s}')
untracked_bytes=$(git ls-files -z --others --exclude-standard | xargs -0 -r stat -c %s | awk '{s += $1} END {print s + 0}')
total=$((bundle_bytes + tracked_bytes + untracked_bytes))
awk -v b="$bundle_bytes" -v t="$tracked_bytes" -v u="$untracked_bytes" -v all="$total" 'BEGIN {
  m = 1048576
  printf "bundle %.1f MiB; with the checkout (%.1f MiB tracked, %.1f MiB untracked) %.1f MiB travel (limit 64 MiB)\n",
    b / m, t / m, u / m, all / m
}'
if ((total > 64 * 1048576)); then
  echo "gpu-prepare: over 64 MiB; send less" >&2
  exit 1
fi
