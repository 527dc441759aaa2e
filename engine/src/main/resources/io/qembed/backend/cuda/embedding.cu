// Token embedding lookup: one block per token.

// out[t] = table[ids[t]]; table [vocab, hidden] BF16, out [tokens, hidden] FP32. Ids are checked on the host.
extern "C" __global__ void embed_rows_bf16(const bf16_t* __restrict__ table, const int* __restrict__ ids,
                                           float* __restrict__ out, int hidden) {
    const long long t = blockIdx.x;
    const bf16_t* row = table + (long long) ids[t] * hidden;
    float* dst = out + t * hidden;
    for (int c = threadIdx.x; c < hidden; c += blockDim.x) {
        dst[c] = bf16_to_float(row[c]);
    }
}
