// Rotary position embedding, rotate-half (NeoX) form: pairs (i, i + head_dim/2).

// In place over x [tokens, heads * head_dim], rows stride floats apart (q or k, a column view of the fused
// q/k/v projection); one thread per (token, head, pair). positions [tokens];
// inv_freq [head_dim/2] = theta^(-2i/head_dim), computed on the host in double precision. The angle and its
// sine and cosine are taken in double: at position 32767 an FP32 angle would already be off by ~2e-3 rad.
extern "C" __global__ void rope_neox(float* x, const int* __restrict__ positions,
                                     const double* __restrict__ inv_freq, int tokens, int heads, int head_dim,
                                     int stride) {
    const int half = head_dim >> 1;
    const long long index = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    const long long pairs_per_token = (long long) heads * half;
    if (index >= (long long) tokens * pairs_per_token) {
        return;
    }
    const long long token = index / pairs_per_token;
    const int rest = (int) (index - token * pairs_per_token);
    const int head = rest / half;
    const int i = rest - head * half;
    double s;
    double c;
    sincos((double) positions[token] * inv_freq[i], &s, &c);
    float* v = x + token * stride + (long long) head * head_dim;
    const float x1 = v[i];
    const float x2 = v[i + half];
    v[i] = (float) (x1 * c - x2 * s);
    v[i + half] = (float) (x2 * c + x1 * s);
}
