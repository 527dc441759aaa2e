// Causal grouped-query attention over packed variable-length sequences on tensor cores, flash-style:
// keys and values stream through shared memory in tiles and the softmax is computed online (running max
// and sum), so memory stays linear in the sequence length.
//
// Numerics: Q, K, V and the softmax weights P enter the tensor cores as BF16 (rounded to nearest even;
// K and V arrive as BF16, so each K and V tile is copied as it is and the traffic per tile is halved);
// products accumulate in FP32; scores are scaled, masked and exponentiated in FP32. The row sum adds the
// same BF16-rounded weights that multiply V, so every output row is an exact convex combination of the
// BF16 values of V with those weights.
//
// Grid: x = query tile within the sequence (the last tile first), y = query head, z = sequence.
// Block: WARPS warps (4 or 8); each warp owns 16 query rows (one m16 tile of mma.m16n8k16). Per key tile a
// warp computes S[16 x ATTN_KEY_TILE] = Q K^T, masks and exponentiates it, and adds P V into
// O[16 x HEAD_DIM]; the S accumulator is reused as the A operand of P V without leaving registers.
//
// mma.m16n8k16 fragments (lane = 4 * group + quad): A (16 x 16, row-major) holds in register r the two
// BF16 of row group + 8 * (r & 1), columns 2 * quad + 8 * (r >> 1) + {0, 1}; B (16 x 8, column-major)
// holds in register r the two BF16 of column group, rows 2 * quad + 8 * r + {0, 1}; C (16 x 8, FP32)
// holds c[e] at row group + 8 * (e >> 1), column 2 * quad + (e & 1). The lower 16 bits of a register
// hold the element with the smaller index.

#define ATTN_KEY_TILE 64
// Shared rows are padded by 8 BF16 (16 bytes) so that the 8 groups of a warp read 8 different banks.
#define ATTN_PAD 8

#ifndef QEMBED_HOST_EMULATION
// D += A * B on the tensor cores of one warp (Ampere and newer).
__device__ __forceinline__ void mma_bf16_m16n8k16(float d[4], const unsigned a[4], unsigned b0, unsigned b1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
                 "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}
#endif

// Two BF16 as one register: lo in the lower half.
__device__ __forceinline__ unsigned pack_bf16x2(float lo, float hi) {
    return ((unsigned) float_to_bf16(hi) << 16) | (unsigned) float_to_bf16(lo);
}

// The 32-bit word holding the BF16 pair at p (p is 4-byte aligned).
__device__ __forceinline__ unsigned load_pair(const bf16_t* p) {
    return *(const unsigned*) p;
}

// Dynamic shared memory: BF16 [ATTN_KEY_TILE][head_dim + ATTN_PAD] (K tiles) followed by BF16
// [head_dim][ATTN_KEY_TILE + ATTN_PAD] (V tiles, transposed); before the first K tile, the Q tile
// [16 * WARPS][head_dim + ATTN_PAD] is staged from the start, over both if it must.
template <int HEAD_DIM, int WARPS>
__device__ void attention_tiles(const float* __restrict__ q, const bf16_t* __restrict__ k, const bf16_t* __restrict__ v,
                                float* __restrict__ out, const int* __restrict__ cu_seqlens, int heads, int kv_heads,
                                int q_stride, float scale_log2) {
    static_assert(HEAD_DIM % 16 == 0, "head_dim is a multiple of the mma's k = 16");
    constexpr int QUERY_TILE = WARPS * 16;
    constexpr int KP = HEAD_DIM + ATTN_PAD;      // pitch of a Q or K row
    constexpr int VP = ATTN_KEY_TILE + ATTN_PAD; // pitch of a row of V^T
    constexpr int DIM_STEPS = HEAD_DIM / 16;     // k-steps of Q K^T
    constexpr int DIM_BLOCKS = HEAD_DIM / 8;     // n-blocks of P V
    constexpr int KEY_BLOCKS = ATTN_KEY_TILE / 8; // n-blocks of Q K^T
    extern __shared__ float shared[];
    bf16_t* k_tile = (bf16_t*) shared;
    bf16_t* vt_tile = k_tile + ATTN_KEY_TILE * KP;

    const int seq_start = cu_seqlens[blockIdx.z];
    const int seq_len = cu_seqlens[blockIdx.z + 1] - seq_start;
    // The last query tiles see the most keys: they are scheduled first, so that the short ones fill the tail.
    const int query0 = (gridDim.x - 1 - blockIdx.x) * QUERY_TILE;
    if (query0 >= seq_len) {
        return; // this sequence is shorter than the longest one in the batch
    }
    const int head = blockIdx.y;
    const int kv_head = head / (heads / kv_heads);
    const long long out_stride = (long long) heads * HEAD_DIM;
    const long long kv_stride = (long long) kv_heads * HEAD_DIM;
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int group = lane >> 2;
    const int quad = lane & 3;

    // Stage the Q tile as BF16 (rows past the sequence's end as zeros), then take this warp's A fragments.
    for (int i = threadIdx.x; i < QUERY_TILE * (HEAD_DIM / 4); i += blockDim.x) {
        const int r = i / (HEAD_DIM / 4);
        const int d = (i - r * (HEAD_DIM / 4)) * 4;
        const int row = query0 + r;
        float4 x = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
        if (row < seq_len) {
            x = *(const float4*) (q + (seq_start + row) * (long long) q_stride + (long long) head * HEAD_DIM + d);
        }
        unsigned* to = (unsigned*) (k_tile + r * KP + d);
        to[0] = pack_bf16x2(x.x, x.y);
        to[1] = pack_bf16x2(x.z, x.w);
    }
    __syncthreads();
    unsigned qa[DIM_STEPS][4];
    {
        const bf16_t* qw = k_tile + (warp * 16 + group) * KP + 2 * quad;
#pragma unroll
        for (int s = 0; s < DIM_STEPS; s++) {
            qa[s][0] = load_pair(qw + s * 16);
            qa[s][1] = load_pair(qw + 8 * KP + s * 16);
            qa[s][2] = load_pair(qw + s * 16 + 8);
            qa[s][3] = load_pair(qw + 8 * KP + s * 16 + 8);
        }
    }

    // This thread's two rows; the warp's last row that exists; the block sees keys [0, key_end).
    const int row_lo = query0 + warp * 16 + group;
    const int row_hi = row_lo + 8;
    const int warp_last_row = min(query0 + warp * 16 + 15, seq_len - 1);
    const int key_end = min(seq_len, query0 + QUERY_TILE);
    float o[DIM_BLOCKS][4];
#pragma unroll
    for (int b = 0; b < DIM_BLOCKS; b++) {
        o[b][0] = o[b][1] = o[b][2] = o[b][3] = 0.0f;
    }
    float max_lo = NEG_INFINITY, max_hi = NEG_INFINITY; // running maxima of the scaled scores (base 2)
    float sum_lo = 0.0f, sum_hi = 0.0f;                 // this thread's part of the running sums

    for (int key0 = 0; key0 < key_end; key0 += ATTN_KEY_TILE) {
        __syncthreads(); // the previous tile (the first time: the Q tile) is no longer read
        // Keys past key_end are in the future of every row of the block: zeros keep them finite.
        for (int i = threadIdx.x; i < ATTN_KEY_TILE * (HEAD_DIM / 8); i += blockDim.x) {
            const int r = i / (HEAD_DIM / 8);
            const int d = (i - r * (HEAD_DIM / 8)) * 8;
            const int key = key0 + r;
            uint4 x = make_uint4(0u, 0u, 0u, 0u);
            if (key < key_end) {
                x = *(const uint4*) (k + (seq_start + key) * kv_stride + (long long) kv_head * HEAD_DIM + d);
            }
            *(uint4*) (k_tile + r * KP + d) = x;
        }
        // V is stored transposed. A warp takes 16 keys x 16 dimensions at a time: each key's 32 bytes are
        // one memory sector, and the transposed 16-bit stores meet at most two to a bank.
        for (int i = threadIdx.x; i < ATTN_KEY_TILE * (HEAD_DIM / 8); i += blockDim.x) {
            const int chunk = i >> 5; // 16 keys x 2 x 8 dimensions
            const int lane_in_chunk = i & 31;
            const int r = (chunk % (ATTN_KEY_TILE / 16)) * 16 + (lane_in_chunk & 15);
            const int d = ((chunk / (ATTN_KEY_TILE / 16)) * 2 + (lane_in_chunk >> 4)) * 8;
            const int key = key0 + r;
            uint4 x = make_uint4(0u, 0u, 0u, 0u);
            if (key < key_end) {
                x = *(const uint4*) (v + (seq_start + key) * kv_stride + (long long) kv_head * HEAD_DIM + d);
            }
            const unsigned words[4] = {x.x, x.y, x.z, x.w};
#pragma unroll
            for (int e = 0; e < 4; e++) {
                vt_tile[(d + 2 * e) * VP + r] = (bf16_t) words[e];
                vt_tile[(d + 2 * e + 1) * VP + r] = (bf16_t) (words[e] >> 16);
            }
        }
        __syncthreads();
        if (key0 > warp_last_row) {
            continue; // uniform across the warp: every key of this tile is in the future of its rows
        }

        // S = Q K^T: n-block b covers keys key0 + 8b .. key0 + 8b + 7.
        float s[KEY_BLOCKS][4];
#pragma unroll
        for (int b = 0; b < KEY_BLOCKS; b++) {
            s[b][0] = s[b][1] = s[b][2] = s[b][3] = 0.0f;
            const bf16_t* kr = k_tile + (b * 8 + group) * KP + 2 * quad;
#pragma unroll
            for (int t = 0; t < DIM_STEPS; t++) {
                mma_bf16_m16n8k16(s[b], qa[t], load_pair(kr + t * 16), load_pair(kr + t * 16 + 8));
            }
        }

        // Scale, mask (future keys; rows past the sequence's end see none) and take the row maxima.
        float tile_max_lo = NEG_INFINITY, tile_max_hi = NEG_INFINITY;
#pragma unroll
        for (int b = 0; b < KEY_BLOCKS; b++) {
#pragma unroll
            for (int e = 0; e < 4; e++) {
                const int key = key0 + b * 8 + 2 * quad + (e & 1);
                const int row = e < 2 ? row_lo : row_hi;
                const bool visible = key <= row && row < seq_len;
                s[b][e] = visible ? s[b][e] * scale_log2 : NEG_INFINITY;
            }
            tile_max_lo = fmaxf(tile_max_lo, fmaxf(s[b][0], s[b][1]));
            tile_max_hi = fmaxf(tile_max_hi, fmaxf(s[b][2], s[b][3]));
        }
        // The four lanes of a group share its rows.
        tile_max_lo = fmaxf(tile_max_lo, __shfl_xor_sync(0xffffffffu, tile_max_lo, 1));
        tile_max_lo = fmaxf(tile_max_lo, __shfl_xor_sync(0xffffffffu, tile_max_lo, 2));
        tile_max_hi = fmaxf(tile_max_hi, __shfl_xor_sync(0xffffffffu, tile_max_hi, 1));
        tile_max_hi = fmaxf(tile_max_hi, __shfl_xor_sync(0xffffffffu, tile_max_hi, 2));
        const float new_max_lo = fmaxf(max_lo, tile_max_lo);
        const float new_max_hi = fmaxf(max_hi, tile_max_hi);
        // A row that has seen no key yet keeps its sums at zero instead of NaN.
        const float base_lo = new_max_lo == NEG_INFINITY ? 0.0f : new_max_lo;
        const float base_hi = new_max_hi == NEG_INFINITY ? 0.0f : new_max_hi;
        const float correction_lo = exp2f(max_lo - base_lo); // 0 before a row's first visible key
        const float correction_hi = exp2f(max_hi - base_hi);
        max_lo = new_max_lo;
        max_hi = new_max_hi;
        sum_lo *= correction_lo;
        sum_hi *= correction_hi;
#pragma unroll
        for (int b = 0; b < DIM_BLOCKS; b++) {
            o[b][0] *= correction_lo;
            o[b][1] *= correction_lo;
            o[b][2] *= correction_hi;
            o[b][3] *= correction_hi;
        }

        // P = exp2(S - max) as BF16 A fragments: key step t (16 keys) is n-blocks 2t and 2t + 1 of S.
#pragma unroll
        for (int t = 0; t < KEY_BLOCKS / 2; t++) {
            unsigned pa[4];
#pragma unroll
            for (int half = 0; half < 2; half++) {
                const float* sb = s[2 * t + half];
                const unsigned lo = pack_bf16x2(exp2f(sb[0] - base_lo), exp2f(sb[1] - base_lo));
                const unsigned hi = pack_bf16x2(exp2f(sb[2] - base_hi), exp2f(sb[3] - base_hi));
                sum_lo += bf16_to_float((bf16_t) lo) + bf16_to_float((bf16_t) (lo >> 16));
                sum_hi += bf16_to_float((bf16_t) hi) + bf16_to_float((bf16_t) (hi >> 16));
                pa[2 * half] = lo;
                pa[2 * half + 1] = hi;
            }
            // O += P V: B fragments from V^T, whose rows are dimensions and columns keys.
            const bf16_t* vr = vt_tile + group * VP + t * 16 + 2 * quad;
#pragma unroll
            for (int b = 0; b < DIM_BLOCKS; b++) {
                mma_bf16_m16n8k16(o[b], pa, load_pair(vr + b * 8 * VP), load_pair(vr + b * 8 * VP + 8));
            }
        }
    }

    sum_lo += __shfl_xor_sync(0xffffffffu, sum_lo, 1);
    sum_lo += __shfl_xor_sync(0xffffffffu, sum_lo, 2);
    sum_hi += __shfl_xor_sync(0xffffffffu, sum_hi, 1);
    sum_hi += __shfl_xor_sync(0xffffffffu, sum_hi, 2);
    const float inv_lo = 1.0f / sum_lo;
    const float inv_hi = 1.0f / sum_hi;
#pragma unroll
    for (int b = 0; b < DIM_BLOCKS; b++) {
        const int d = b * 8 + 2 * quad;
        if (row_lo < seq_len) {
            *(float2*) (out + (seq_start + row_lo) * out_stride + (long long) head * HEAD_DIM + d) =
                make_float2(o[b][0] * inv_lo, o[b][1] * inv_lo);
        }
        if (row_hi < seq_len) {
            *(float2*) (out + (seq_start + row_hi) * out_stride + (long long) head * HEAD_DIM + d) =
                make_float2(o[b][2] * inv_hi, o[b][3] * inv_hi);
        }
    }
}

// q, out [tokens, heads * head_dim] FP32, q's rows q_stride floats apart (a multiple of 4: q is read as float4;
// q is a column view of the fused q/k/v projection), out dense; k, v [tokens, kv_heads * head_dim] BF16, dense;
// cu_seqlens [sequences + 1];
// heads is a multiple of kv_heads. scale_log2 = head_dim^-0.5 * log2(e): scores are kept in base 2 so
// that exp2f does the softmax. One kernel per supported head_dim, since the tiles live in registers, and
// per block size: 4 warps (64 query rows, more blocks per multiprocessor) or 8 (128 rows: each K and V
// tile staged serves twice the rows).

extern "C" __global__ void __launch_bounds__(128) attention_causal_varlen_32_w4(
    const float* __restrict__ q, const bf16_t* __restrict__ k, const bf16_t* __restrict__ v, float* __restrict__ out,
    const int* __restrict__ cu_seqlens, int heads, int kv_heads, int q_stride, float scale_log2) {
    attention_tiles<32, 4>(q, k, v, out, cu_seqlens, heads, kv_heads, q_stride, scale_log2);
}

extern "C" __global__ void __launch_bounds__(128) attention_causal_varlen_64_w4(
    const float* __restrict__ q, const bf16_t* __restrict__ k, const bf16_t* __restrict__ v, float* __restrict__ out,
    const int* __restrict__ cu_seqlens, int heads, int kv_heads, int q_stride, float scale_log2) {
    attention_tiles<64, 4>(q, k, v, out, cu_seqlens, heads, kv_heads, q_stride, scale_log2);
}

extern "C" __global__ void __launch_bounds__(128) attention_causal_varlen_128_w4(
    const float* __restrict__ q, const bf16_t* __restrict__ k, const bf16_t* __restrict__ v, float* __restrict__ out,
    const int* __restrict__ cu_seqlens, int heads, int kv_heads, int q_stride, float scale_log2) {
    attention_tiles<128, 4>(q, k, v, out, cu_seqlens, heads, kv_heads, q_stride, scale_log2);
}

extern "C" __global__ void __launch_bounds__(128) attention_causal_varlen_256_w4(
    const float* __restrict__ q, const bf16_t* __restrict__ k, const bf16_t* __restrict__ v, float* __restrict__ out,
    const int* __restrict__ cu_seqlens, int heads, int kv_heads, int q_stride, float scale_log2) {
    attention_tiles<256, 4>(q, k, v, out, cu_seqlens, heads, kv_heads, q_stride, scale_log2);
}

extern "C" __global__ void __launch_bounds__(256) attention_causal_varlen_32_w8(
    const float* __restrict__ q, const bf16_t* __restrict__ k, const bf16_t* __restrict__ v, float* __restrict__ out,
    const int* __restrict__ cu_seqlens, int heads, int kv_heads, int q_stride, float scale_log2) {
    attention_tiles<32, 8>(q, k, v, out, cu_seqlens, heads, kv_heads, q_stride, scale_log2);
}

extern "C" __global__ void __launch_bounds__(256) attention_causal_varlen_64_w8(
    const float* __restrict__ q, const bf16_t* __restrict__ k, const bf16_t* __restrict__ v, float* __restrict__ out,
    const int* __restrict__ cu_seqlens, int heads, int kv_heads, int q_stride, float scale_log2) {
    attention_tiles<64, 8>(q, k, v, out, cu_seqlens, heads, kv_heads, q_stride, scale_log2);
}

extern "C" __global__ void __launch_bounds__(256) attention_causal_varlen_128_w8(
    const float* __restrict__ q, const bf16_t* __restrict__ k, const bf16_t* __restrict__ v, float* __restrict__ out,
    const int* __restrict__ cu_seqlens, int heads, int kv_heads, int q_stride, float scale_log2) {
    attention_tiles<128, 8>(q, k, v, out, cu_seqlens, heads, kv_heads, q_stride, scale_log2);
}

extern "C" __global__ void __launch_bounds__(256) attention_causal_varlen_256_w8(
    const float* __restrict__ q, const bf16_t* __restrict__ k, const bf16_t* __restrict__ v, float* __restrict__ out,
    const int* __restrict__ cu_seqlens, int heads, int kv_heads, int q_stride, float scale_log2) {
    attention_tiles<256, 8>(q, k, v, out, cu_seqlens, heads, kv_heads, q_stride, scale_log2);
}
