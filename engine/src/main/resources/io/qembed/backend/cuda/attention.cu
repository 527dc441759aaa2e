// Causal grouped-query attention over packed variable-length sequences, flash-style: keys and values
// stream through shared memory in tiles and the softmax is computed online (running max and sum), so
// memory stays linear in the sequence length. FP32 throughout; no tensor cores yet.
//
// Grid: x = query tile within the sequence, y = query head, z = sequence. Block: ATTN_WARPS warps; each
// warp owns ATTN_ROWS_PER_WARP query rows and works on all of them at once, so that every K and V
// element read from shared memory serves each of them; lane l scores key (tile start + l) and
// accumulates output dimensions l, l + 32, ... of every row.

#define ATTN_WARPS 4
#define ATTN_ROWS_PER_WARP 4
#define ATTN_QUERY_TILE (ATTN_WARPS * ATTN_ROWS_PER_WARP)
#define ATTN_KEY_TILE 32
#define ATTN_MAX_HEAD_DIM 256
#define ATTN_DIMS_PER_LANE (ATTN_MAX_HEAD_DIM / 32)

// q, out [tokens, heads * head_dim]; k, v [tokens, kv_heads * head_dim]; cu_seqlens [sequences + 1].
// head_dim is a multiple of 32 and at most ATTN_MAX_HEAD_DIM; heads is a multiple of kv_heads.
// scale_log2 = head_dim^-0.5 * log2(e): scores are kept in base 2 so that exp2f does the softmax.
// Dynamic shared memory: (ATTN_QUERY_TILE * head_dim + ATTN_KEY_TILE * (head_dim + 1)
//                         + ATTN_KEY_TILE * head_dim) floats.
extern "C" __global__ void attention_causal_varlen(const float* __restrict__ q, const float* __restrict__ k,
                                                   const float* __restrict__ v, float* __restrict__ out,
                                                   const int* __restrict__ cu_seqlens, int heads, int kv_heads,
                                                   int head_dim, float scale_log2) {
    extern __shared__ float shared[];
    const int seq_start = cu_seqlens[blockIdx.z];
    const int seq_len = cu_seqlens[blockIdx.z + 1] - seq_start;
    const int query0 = blockIdx.x * ATTN_QUERY_TILE;
    if (query0 >= seq_len) {
        return; // this sequence is shorter than the longest one in the batch
    }
    const int head = blockIdx.y;
    const int kv_head = head / (heads / kv_heads);
    const long long q_stride = (long long) heads * head_dim;
    const long long kv_stride = (long long) kv_heads * head_dim;
    const int k_pitch = head_dim + 1; // odd pitch: lanes reading different keys hit different banks

    float* q_tile = shared;                                   // [ATTN_QUERY_TILE][head_dim], pre-scaled
    float* k_tile = q_tile + ATTN_QUERY_TILE * head_dim;      // [ATTN_KEY_TILE][k_pitch]
    float* v_tile = k_tile + ATTN_KEY_TILE * k_pitch;         // [ATTN_KEY_TILE][head_dim]

    for (int i = threadIdx.x; i < ATTN_QUERY_TILE * head_dim; i += blockDim.x) {
        const int r = i / head_dim;
        const int d = i - r * head_dim;
        const int row = query0 + r;
        q_tile[i] = row < seq_len ? q[(seq_start + row) * q_stride + (long long) head * head_dim + d] * scale_log2
                                  : 0.0f;
    }

    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int dims = head_dim >> 5;
    float running_max[ATTN_ROWS_PER_WARP];
    float running_sum[ATTN_ROWS_PER_WARP];
    float acc[ATTN_ROWS_PER_WARP][ATTN_DIMS_PER_LANE];
#pragma unroll
    for (int j = 0; j < ATTN_ROWS_PER_WARP; j++) {
        running_max[j] = NEG_INFINITY;
        running_sum[j] = 0.0f;
#pragma unroll
        for (int i = 0; i < ATTN_DIMS_PER_LANE; i++) {
            acc[j][i] = 0.0f;
        }
    }

    // This warp's rows are first_row .. last_row; the last row of the block sees keys [0, key_end).
    const int first_row = query0 + warp * ATTN_ROWS_PER_WARP;
    const int last_row = min(first_row + ATTN_ROWS_PER_WARP, seq_len) - 1;
    const int key_end = min(seq_len, query0 + ATTN_QUERY_TILE);
    for (int key0 = 0; key0 < key_end; key0 += ATTN_KEY_TILE) {
        __syncthreads(); // the previous tile is no longer read (and, the first time, q_tile is written)
        for (int i = threadIdx.x; i < ATTN_KEY_TILE * head_dim; i += blockDim.x) {
            const int r = i / head_dim;
            const int d = i - r * head_dim;
            const int key = key0 + r;
            const bool valid = key < key_end;
            const long long at = (seq_start + key) * kv_stride + (long long) kv_head * head_dim + d;
            k_tile[r * k_pitch + d] = valid ? k[at] : 0.0f;
            v_tile[r * head_dim + d] = valid ? v[at] : 0.0f;
        }
        __syncthreads();
        if (first_row > last_row || key0 > last_row) {
            continue; // uniform across the warp: no row of this warp sees a key of this tile
        }

        // Lane l scores key key0 + l against all of the warp's rows: each K element read serves every row.
        const int key = key0 + lane;
        const float* kr = k_tile + lane * k_pitch;
        const float* q0 = q_tile + (warp * ATTN_ROWS_PER_WARP) * head_dim;
        float score[ATTN_ROWS_PER_WARP];
#pragma unroll
        for (int j = 0; j < ATTN_ROWS_PER_WARP; j++) {
            score[j] = 0.0f;
        }
        for (int d = 0; d < head_dim; d++) {
            const float kd = kr[d];
#pragma unroll
            for (int j = 0; j < ATTN_ROWS_PER_WARP; j++) {
                score[j] = fmaf(q0[j * head_dim + d], kd, score[j]);
            }
        }

        float p[ATTN_ROWS_PER_WARP];
#pragma unroll
        for (int j = 0; j < ATTN_ROWS_PER_WARP; j++) {
            const int row = first_row + j;
            const float s = (row <= last_row && key <= row) ? score[j] : NEG_INFINITY;
            const float new_max = fmaxf(running_max[j], warp_max(s));
            // A row past the sequence's end never sees a key: keep its sums at zero instead of NaN.
            const float base = new_max == NEG_INFINITY ? 0.0f : new_max;
            p[j] = exp2f(s - base);                                   // 0 for masked keys
            const float correction = exp2f(running_max[j] - base);   // 0 on a row's first tile
            running_sum[j] = running_sum[j] * correction + warp_sum(p[j]);
            running_max[j] = new_max;
#pragma unroll
            for (int i = 0; i < ATTN_DIMS_PER_LANE; i++) {
                acc[j][i] *= correction;
            }
        }

        // out += p · V: each V element read serves every row; p of key kk comes from lane kk.
        const int visible = min(ATTN_KEY_TILE, last_row - key0 + 1);
        for (int kk = 0; kk < visible; kk++) {
            const float* vr = v_tile + kk * head_dim;
            float vv[ATTN_DIMS_PER_LANE];
#pragma unroll
            for (int i = 0; i < ATTN_DIMS_PER_LANE; i++) {
                vv[i] = i < dims ? vr[lane + 32 * i] : 0.0f;
            }
#pragma unroll
            for (int j = 0; j < ATTN_ROWS_PER_WARP; j++) {
                const float pk = __shfl_sync(0xffffffffu, p[j], kk);
#pragma unroll
                for (int i = 0; i < ATTN_DIMS_PER_LANE; i++) {
                    if (i < dims) {
                        acc[j][i] = fmaf(pk, vv[i], acc[j][i]);
                    }
                }
            }
        }
    }

#pragma unroll
    for (int j = 0; j < ATTN_ROWS_PER_WARP; j++) {
        const int row = query0 + warp * ATTN_ROWS_PER_WARP + j;
        if (row < seq_len) {
            const float inv = 1.0f / running_sum[j];
            float* o = out + (seq_start + row) * q_stride + (long long) head * head_dim;
#pragma unroll
            for (int i = 0; i < ATTN_DIMS_PER_LANE; i++) {
                if (i < dims) {
                    o[lane + 32 * i] = acc[j][i] * inv;
                }
            }
        }
    }
}
