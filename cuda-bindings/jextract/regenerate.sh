#!/usr/bin/env bash
# Regenerates the FFM bindings in src/main/java/io/qembed/cuda/generated from the CUDA headers.
#
#   JEXTRACT=/path/to/jextract CUDA_INCLUDE=/usr/local/cuda/include [EXTRA_INCLUDE=dir] ./regenerate.sh
#
# CUDA_INCLUDE must hold cuda.h; cublas_v2.h, cublas_api.h and nvrtc.h are looked up there and in
# EXTRA_INCLUDE (a CUDA toolkit's include folder, or a CUDA Python wheel's nvidia/cu13/include).
# The committed sources were generated from the CUDA 13.0 headers.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out="$here/../src/main/java"
jextract=${JEXTRACT:-jextract}
cuda_include=${CUDA_INCLUDE:-/usr/local/cuda/include}
includes=()
[[ -n ${EXTRA_INCLUDE:-} ]] && includes+=(-I "$EXTRA_INCLUDE")
includes+=(-I "$cuda_include")

rm -rf "$out/io/qembed/cuda/generated"
"$jextract" "${includes[@]}" --output "$out" @"$here/cuda.args" "$cuda_include/cuda.h"
"$jextract" "${includes[@]}" --output "$out" @"$here/cublas.args" cublas_v2.h
"$jextract" "${includes[@]}" --output "$out" @"$here/nvrtc.args" nvrtc.h
echo "generated into $out/io/qembed/cuda/generated"
