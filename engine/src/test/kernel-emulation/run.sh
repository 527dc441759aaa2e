#!/usr/bin/env bash
# Optional developer check, not part of the Maven build: compiles the CUDA kernels as host C++ under a
# small emulation of CUDA blocks (std::thread per CUDA thread, barriers for __syncthreads and warp
# shuffles) and compares each kernel with a plain double-precision reference. It checks the kernels'
# indexing, masking, tiling and reductions without a GPU; it says nothing about the real compiler,
# memory model or speed. Needs g++ with C++20.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kernels="$here/../../main/resources/io/qembed/backend/cuda"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
{
    echo '#include "emu.h"'
    # __shared__ becomes a static (blocks run one at a time); the dynamic shared array is a global.
    cat "$kernels/common.cuh" "$kernels"/embedding.cu "$kernels"/norm.cu "$kernels"/rope.cu \
        "$kernels"/elementwise.cu "$kernels"/attention.cu |
        sed 's/extern __shared__ float shared\[\];//; s/extern "C"//'
} > "$work/kernels.inc"
cp "$here/emu.h" "$here/kernels_check.cpp" "$work/"
g++ -std=c++20 -O1 -pthread -w -o "$work/kernels_check" "$work/kernels_check.cpp"
"$work/kernels_check"
