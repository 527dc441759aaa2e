// Host emulation (see run.sh) of the few CUDA features the kernels use: blocks run one after another, each block's
// threads are std::threads, __syncthreads is a block barrier, warp shuffles exchange through arrays.
#define _GNU_SOURCE 1
#include <barrier>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>
#include <algorithm>
using std::min;
using std::max;
struct dim3 { unsigned x = 1, y = 1, z = 1; };
inline thread_local dim3 threadIdx;
inline dim3 blockIdx, blockDim, gridDim;
#define QEMBED_HOST_EMULATION 1
#define __launch_bounds__(...)
#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static
#define __restrict__
inline std::unique_ptr<std::barrier<>> block_barrier;
inline std::vector<std::unique_ptr<std::barrier<>>> warp_barriers;
inline float exchange[32][32];
inline void __syncthreads() { block_barrier->arrive_and_wait(); }
inline float __uint_as_float(unsigned v) { float f; memcpy(&f, &v, 4); return f; }
inline float __int_as_float(int v) { float f; memcpy(&f, &v, 4); return f; }
inline unsigned __float_as_uint(float f) { unsigned v; memcpy(&v, &f, 4); return v; }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline float shuffle(float v, int source) {
    int w = threadIdx.x / 32, l = threadIdx.x % 32;
    warp_barriers[w]->arrive_and_wait();
    exchange[w][l] = v;
    warp_barriers[w]->arrive_and_wait();
    return exchange[w][source];
}
inline float __shfl_xor_sync(unsigned, float v, int offset) { return shuffle(v, (threadIdx.x % 32) ^ offset); }
inline float __shfl_sync(unsigned, float v, int lane) { return shuffle(v, lane); }
struct float2 { float x, y; };
struct float4 { float x, y, z, w; };
struct alignas(16) uint4 { unsigned x, y, z, w; };
inline uint4 make_uint4(unsigned x, unsigned y, unsigned z, unsigned w) { return {x, y, z, w}; }
inline float2 make_float2(float x, float y) { return {x, y}; }
inline float4 make_float4(float x, float y, float z, float w) { return {x, y, z, w}; }
// mma.sync.m16n8k16.row.col.f32.bf16.bf16.f32 on one warp, by the fragment layout of the PTX ISA: every
// lane deposits its fragments, each lane then computes its four outputs from the whole A and B.
inline unsigned mma_a[32][32][4], mma_b[32][32][2];
inline float bf16_bits_to_float(unsigned bits16) { return __uint_as_float(bits16 << 16); }
inline void mma_bf16_m16n8k16(float d[4], const unsigned a[4], unsigned b0, unsigned b1) {
    int w = threadIdx.x / 32, l = threadIdx.x % 32;
    warp_barriers[w]->arrive_and_wait();
    for (int r = 0; r < 4; r++) mma_a[w][l][r] = a[r];
    mma_b[w][l][0] = b0;
    mma_b[w][l][1] = b1;
    warp_barriers[w]->arrive_and_wait();
    float A[16][16], B[16][8];
    for (int lane = 0; lane < 32; lane++) {
        int group = lane >> 2, quad = lane & 3;
        for (int r = 0; r < 4; r++)
            for (int h = 0; h < 2; h++)
                A[group + 8 * (r & 1)][2 * quad + 8 * (r >> 1) + h] = bf16_bits_to_float((mma_a[w][lane][r] >> (16 * h)) & 0xffff);
        for (int r = 0; r < 2; r++)
            for (int h = 0; h < 2; h++)
                B[2 * quad + 8 * r + h][group] = bf16_bits_to_float((mma_b[w][lane][r] >> (16 * h)) & 0xffff);
    }
    int group = l >> 2, quad = l & 3;
    for (int e = 0; e < 4; e++) {
        int row = group + 8 * (e >> 1), col = 2 * quad + (e & 1);
        float acc = d[e];
        for (int k = 0; k < 16; k++) acc += A[row][k] * B[k][col];
        d[e] = acc;
    }
}
extern float shared_memory[];
#define shared shared_memory
template <class F> void launch(dim3 grid, dim3 block, F kernel) {
    gridDim = grid;
    blockDim = block;
    int n = block.x;
    for (unsigned z = 0; z < grid.z; z++)
        for (unsigned y = 0; y < grid.y; y++)
            for (unsigned x = 0; x < grid.x; x++) {
                blockIdx = {x, y, z};
                block_barrier = std::make_unique<std::barrier<>>(n);
                warp_barriers.clear();
                for (int w = 0; w < n / 32; w++) warp_barriers.push_back(std::make_unique<std::barrier<>>(32));
                std::vector<std::thread> threads;
                for (int t = 0; t < n; t++) threads.emplace_back([&, t] { threadIdx = {(unsigned) t, 0, 0}; kernel(); });
                for (auto& t : threads) t.join();
            }
}
