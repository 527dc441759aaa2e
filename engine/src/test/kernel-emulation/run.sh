#!/usr/bin/env bash
# Host check of the CUDA kernels, run by KernelEmulationTest where g++ exists: compiles the kernels as
# host C++ under a small emulation of CUDA blocks (std::thread per CUDA thread, barriers for
# __syncthreads, warp shuffles and mma.sync, the latter by the PTX ISA's fragment layout) and compares each
# kernel with a plain double-precision reference. It checks the kernels' indexing, masking, tiling,
# fragment layouts and reductions without a GPU; it says nothing about the real compiler, memory model or
# speed. Needs g++ with C++20.
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
g++ -std=c++20 -O1 -fno-strict-aliasing -pthread -w -o "$work/kernels_check" "$work/kernels_check.cpp"
"$work/kernels_check"
