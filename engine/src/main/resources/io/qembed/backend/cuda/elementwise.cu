// Elementwise kernels and row gathers, one thread per element.

// out = silu(gate) * up over [rows, cols], one thread per element; each matrix has its own row stride (gate
// and up are the halves of the fused gate/up projection). out may be gate.
extern "C" __global__ void swiglu(const float* gate, const float* up, float* out, long long n, int cols,
                                  int gate_stride, int up_stride, int out_stride) {
    const long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        const long long r = i / cols;
        const long long c = i - r * cols;
        const float g = gate[r * gate_stride + c];
        out[r * out_stride + c] = g / (1.0f + expf(-g)) * up[r * up_stride + c];
    }
}

// FP32 activations rounded to BF16 for the tensor cores: x [rows, cols] with rows stride floats apart, out
// [rows, cols] dense; n = rows * cols.
extern "C" __global__ void f32_to_bf16(const float* __restrict__ x, bf16_t* __restrict__ out, long long n, int cols,
                                       int stride) {
    const long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        const long long r = i / cols;
        out[i] = float_to_bf16(x[r * stride + (i - r * cols)]);
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
