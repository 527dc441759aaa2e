// RMSNorm family, FP32 throughout: y = x / sqrt(mean(x^2) + eps) * weight.

// One block per row; x, out [rows, cols]; weight [cols]. out may be x: every element is read by the
// thread that later writes it, and the block-wide sum separates the two passes.
extern "C" __global__ void rms_norm(const float* x, const float* __restrict__ weight, float eps, float* out,
                                    int cols) {
    const long long row = (long long) blockIdx.x * cols;
    float squares = 0.0f;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) {
        const float v = x[row + c];
        squares += v * v;
    }
    const float inv = rsqrtf(block_sum(squares) / (float) cols + eps);
    for (int c = threadIdx.x; c < cols; c += blockDim.x) {
        out[row + c] = x[row + c] * inv * weight[c];
    }
}

// residual += delta, then out = rms_norm(residual): the residual add fused with the next norm.
// One block per row; residual, delta, out [rows, cols]; out may alias residual or delta.
extern "C" __global__ void add_rms_norm(float* residual, const float* delta, const float* __restrict__ weight,
                                        float eps, float* out, int cols) {
    const long long row = (long long) blockIdx.x * cols;
    float squares = 0.0f;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) {
        const float v = residual[row + c] + delta[row + c];
        residual[row + c] = v;
        squares += v * v;
    }
    const float inv = rsqrtf(block_sum(squares) / (float) cols + eps);
    for (int c = threadIdx.x; c < cols; c += blockDim.x) {
        out[row + c] = residual[row + c] * inv * weight[c];
    }
}

// RMSNorm of every head slice in place (Qwen3's q_norm / k_norm): one warp per (row, head).
// x [rows, heads * head_dim] with rows stride floats apart (q or k, a column view of the fused q/k/v
// projection); weight [head_dim]; slices = rows * heads.
extern "C" __global__ void head_rms_norm(float* x, const float* __restrict__ weight, float eps, int slices,
                                         int heads, int head_dim, int stride) {
    const int warps_per_block = blockDim.x >> 5;
    const long long slice = (long long) blockIdx.x * warps_per_block + (threadIdx.x >> 5);
    if (slice >= slices) {
        return;
    }
    const int lane = threadIdx.x & 31;
    const long long row = slice / heads;
    float* v = x + row * stride + (slice - row * heads) * head_dim;
    float squares = 0.0f;
    for (int d = lane; d < head_dim; d += 32) {
        squares += v[d] * v[d];
    }
    const float inv = rsqrtf(warp_sum(squares) / (float) head_dim + eps);
    for (int d = lane; d < head_dim; d += 32) {
        v[d] = v[d] * inv * weight[d];
    }
}
