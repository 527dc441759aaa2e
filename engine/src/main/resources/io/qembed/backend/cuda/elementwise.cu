// Elementwise kernels and row gathers, one thread per element.

// out = silu(gate) * up; out may be gate.
extern "C" __global__ void swiglu(const float* gate, const float* up, float* out, long long n) {
    const long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        const float g = gate[i];
        out[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

// x += delta.
extern "C" __global__ void add_in_place(float* x, const float* __restrict__ delta, long long n) {
    const long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        x[i] += delta[i];
    }
}

// FP32 activations rounded to BF16 for the tensor-core matrix products.
extern "C" __global__ void f32_to_bf16(const float* __restrict__ x, bf16_t* __restrict__ out, long long n) {
    const long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        out[i] = float_to_bf16(x[i]);
    }
}

// out[r] = x[rows[r]]: one block per gathered row; x [*, cols], out [count, cols]. Rows checked on the host.
extern "C" __global__ void gather_rows(const float* __restrict__ x, const int* __restrict__ rows,
                                       float* __restrict__ out, int cols) {
    const float* src = x + (long long) rows[blockIdx.x] * cols;
    float* dst = out + (long long) blockIdx.x * cols;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) {
        dst[c] = src[c];
    }
}
