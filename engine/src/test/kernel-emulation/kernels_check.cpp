// Each kernel, run under emu.h, against a plain double-precision reference. Built by run.sh.
#include <random>
float shared_memory[1 << 16];
#include "kernels.inc"

static std::mt19937 rng(42);
static std::vector<float> random_vec(size_t n, float scale) {
    std::uniform_real_distribution<float> d(-scale, scale);
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng);
    return v;
}
static int failures = 0;
static void check(const char* what, const std::vector<float>& expected, const std::vector<float>& actual, double abs, double rel) {
    double worst = 0; size_t at = 0;
    for (size_t i = 0; i < expected.size(); i++) {
        double e = std::fabs((double) actual[i] - expected[i]) - (abs + rel * std::fabs(expected[i]));
        if (std::isnan(actual[i]) || e > worst) { worst = std::isnan(actual[i]) ? 1e30 : e; at = i; }
    }
    if (worst > 0) { failures++; printf("FAIL %s: element %zu is %g, expected %g\n", what, at, actual[at], expected[at]); }
    else printf("ok   %s\n", what);
}
static int ceil_div(long a, long b) { return (int) ((a + b - 1) / b); }
static int row_threads(int cols) { int t = ceil_div(ceil_div(cols, 4), 32) * 32; return std::clamp(t, 32, 1024); }

static void test_norms(int rows, int cols) {
    auto x = random_vec(rows * cols, 3), w = random_vec(cols, 1.5f), d = random_vec(rows * cols, 2);
    std::vector<float> out(rows * cols), expected(rows * cols);
    for (int r = 0; r < rows; r++) {
        double ss = 0; for (int c = 0; c < cols; c++) ss += (double) x[r * cols + c] * x[r * cols + c];
        double inv = 1 / std::sqrt(ss / cols + 1e-6);
        for (int c = 0; c < cols; c++) expected[r * cols + c] = (float) (x[r * cols + c] * inv * w[c]);
    }
    launch({(unsigned) rows}, {(unsigned) row_threads(cols)}, [&] { rms_norm(x.data(), w.data(), 1e-6f, out.data(), cols); });
    char name[64]; snprintf(name, 64, "rms_norm %dx%d", rows, cols); check(name, expected, out, 1e-6, 1e-5);
    // add_rms_norm, in place on residual
    std::vector<float> residual = x, expected_res(rows * cols);
    for (int r = 0; r < rows; r++) {
        double ss = 0;
        for (int c = 0; c < cols; c++) { float v = x[r * cols + c] + d[r * cols + c]; expected_res[r * cols + c] = v; ss += (double) v * v; }
        double inv = 1 / std::sqrt(ss / cols + 1e-6);
        for (int c = 0; c < cols; c++) expected[r * cols + c] = (float) (expected_res[r * cols + c] * inv * w[c]);
    }
    launch({(unsigned) rows}, {(unsigned) row_threads(cols)}, [&] { add_rms_norm(residual.data(), d.data(), w.data(), 1e-6f, out.data(), cols); });
    snprintf(name, 64, "add_rms_norm residual %dx%d", rows, cols); check(name, expected_res, residual, 0, 0);
    snprintf(name, 64, "add_rms_norm out %dx%d", rows, cols); check(name, expected, out, 1e-6, 1e-5);
}

// x holds rows of heads * hd values stride floats apart (q or k inside the fused q/k/v output): the columns
// between the rows must come out unchanged.
static void test_head_norm(int rows, int heads, int hd, int stride) {
    auto x = random_vec(rows * stride, 4), w = random_vec(hd, 2);
    auto expected = x;
    for (int r = 0; r < rows; r++) for (int h = 0; h < heads; h++) {
        const int o = r * stride + h * hd;
        double ss = 0; for (int d = 0; d < hd; d++) ss += (double) x[o + d] * x[o + d];
        double inv = 1 / std::sqrt(ss / hd + 1e-6);
        for (int d = 0; d < hd; d++) expected[o + d] = (float) (x[o + d] * inv * w[d]);
    }
    int slices = rows * heads;
    launch({(unsigned) ceil_div(slices, 8)}, {256}, [&] { head_rms_norm(x.data(), w.data(), 1e-6f, slices, heads, hd, stride); });
    char name[80]; snprintf(name, 80, "head_rms_norm %dx%dx%d stride %d", rows, heads, hd, stride); check(name, expected, x, 1e-6, 1e-5);
}

// As head_rms_norm, x's rows are stride floats apart and what lies between them stays unchanged.
static void test_rope(std::vector<int> lens, int heads, int hd, double theta, int stride) {
    std::vector<int> pos; for (int l : lens) for (int p = 0; p < l; p++) pos.push_back(p);
    int tokens = pos.size();
    auto x = random_vec(tokens * stride, 1);
    auto expected = x;
    std::vector<double> inv(hd / 2); for (int i = 0; i < hd / 2; i++) inv[i] = std::pow(theta, -2.0 * i / hd);
    for (int t = 0; t < tokens; t++) for (int h = 0; h < heads; h++) for (int i = 0; i < hd / 2; i++) {
        double a = pos[t] * inv[i]; int o = t * stride + h * hd;
        float x1 = x[o + i], x2 = x[o + i + hd / 2];
        expected[o + i] = (float) (x1 * std::cos(a) - x2 * std::sin(a));
        expected[o + i + hd / 2] = (float) (x2 * std::cos(a) + x1 * std::sin(a));
    }
    long pairs = (long) tokens * heads * (hd / 2);
    launch({(unsigned) ceil_div(pairs, 256)}, {256}, [&] { rope_neox(x.data(), pos.data(), inv.data(), tokens, heads, hd, stride); });
    char name[80]; snprintf(name, 80, "rope tokens %d heads %d hd %d stride %d", tokens, heads, hd, stride); check(name, expected, x, 1e-6, 0);
}

static float round_bf16(float f) { return bf16_to_float(float_to_bf16(f)); }

// Attention against a double-precision softmax over the BF16-rounded q, k and v. With zero queries every
// score is 0 and every weight exp2(0) = 1 exactly, so the output is the plain mean of the visible values:
// that case is checked to FP32 accuracy and pins the masks. With random queries the weights P are rounded
// to BF16 (relative error at most u = 2^-8 each), which moves a convex combination of values by at most
// 2u max|v|: that is the bound.
// q's rows lie q_stride floats apart, as q inside the fused q/k/v output (q_stride = heads * hd when dense).
template <int hd_t>
static void test_attention(std::vector<int> lens, int heads, int kv_heads, int warps, bool zero_queries, int q_stride) {
    const int hd = hd_t;
    std::vector<int> cu{0}; int max_len = 0;
    for (int l : lens) { cu.push_back(cu.back() + l); max_len = std::max(max_len, l); }
    int tokens = cu.back();
    auto k = random_vec(tokens * kv_heads * hd, 1), v = random_vec(tokens * kv_heads * hd, 1);
    auto q_wide = random_vec(tokens * q_stride, 1);
    if (zero_queries) std::fill(q_wide.begin(), q_wide.end(), 0.0f);
    std::vector<float> q(tokens * heads * hd); // q_wide's q columns, dense, for the reference
    for (int t = 0; t < tokens; t++) std::copy_n(q_wide.begin() + (long) t * q_stride, heads * hd, q.begin() + (long) t * heads * hd);
    std::vector<float> out(tokens * heads * hd, -999.f), expected(tokens * heads * hd);
    double scale = 1 / std::sqrt((double) hd), max_v = 0;
    for (float x : v) max_v = std::max(max_v, (double) std::fabs(x));
    for (size_t s = 0; s < lens.size(); s++) for (int i = 0; i < lens[s]; i++) for (int h = 0; h < heads; h++) {
        int kvh = h / (heads / kv_heads); int qi = cu[s] + i;
        std::vector<double> sc(i + 1); double m = -1e300;
        for (int j = 0; j <= i; j++) {
            double dot = 0;
            for (int d = 0; d < hd; d++) dot += (double) round_bf16(q[qi * heads * hd + h * hd + d]) * round_bf16(k[(cu[s] + j) * kv_heads * hd + kvh * hd + d]);
            sc[j] = dot * scale; m = std::max(m, sc[j]);
        }
        double sum = 0; for (auto& e : sc) { e = std::exp(e - m); sum += e; }
        for (int d = 0; d < hd; d++) {
            double acc = 0;
            for (int j = 0; j <= i; j++) acc += sc[j] * round_bf16(v[(cu[s] + j) * kv_heads * hd + kvh * hd + d]);
            expected[qi * heads * hd + h * hd + d] = (float) (acc / sum);
        }
    }
    float scale_log2 = (float) (1.0 / std::sqrt((double) hd) / std::log(2.0));
    std::vector<bf16_t> k16(k.size()), v16(v.size()); // as the backend converts them before the kernel
    for (size_t i = 0; i < k.size(); i++) k16[i] = float_to_bf16(k[i]);
    for (size_t i = 0; i < v.size(); i++) v16[i] = float_to_bf16(v[i]);
    auto kernel = [&] {
        if (warps == 4) attention_tiles<hd_t, 4>(q_wide.data(), k16.data(), v16.data(), out.data(), cu.data(), heads, kv_heads, q_stride, scale_log2);
        else attention_tiles<hd_t, 8>(q_wide.data(), k16.data(), v16.data(), out.data(), cu.data(), heads, kv_heads, q_stride, scale_log2);
    };
    launch({(unsigned) ceil_div(max_len, 16 * warps), (unsigned) heads, (unsigned) lens.size()}, {(unsigned) (32 * warps)}, kernel);
    double worst = 0; for (size_t i = 0; i < out.size(); i++) worst = std::max(worst, std::fabs((double) out[i] - expected[i]));
    char name[128];
    snprintf(name, 128, "attention %s seqs %zu tokens %d heads %d/%d hd %d warps %d q stride %d (max error %.2g)",
             zero_queries ? "uniform" : "random", lens.size(), tokens, heads, kv_heads, hd, warps, q_stride, worst);
    check(name, expected, out, zero_queries ? 1e-6 : 2 * std::ldexp(1.0, -8) * max_v, zero_queries ? 1e-5 : 0);
}

static void test_elementwise() {
    int n = 1000;
    auto g = random_vec(n, 6), u = random_vec(n, 2);
    std::vector<float> out(n), expected(n);
    for (int i = 0; i < n; i++) expected[i] = (float) (g[i] / (1 + std::exp(-(double) g[i])) * u[i]);
    launch({(unsigned) ceil_div(n, 256)}, {256}, [&] { swiglu(g.data(), u.data(), out.data(), n, 100, 100, 100, 100); });
    check("swiglu", expected, out, 1e-6, 1e-5);
    // As in the MLP: gate and up the halves of one [rows, 2 * cols] buffer, out the gate half.
    {
        int rows = 7, cols = 300;
        auto gu = random_vec(rows * 2 * cols, 6), gu_expected = gu;
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) {
            double gv = gu[r * 2 * cols + c];
            gu_expected[r * 2 * cols + c] = (float) (gv / (1 + std::exp(-gv)) * gu[r * 2 * cols + cols + c]);
        }
        long long m = (long long) rows * cols;
        launch({(unsigned) ceil_div(m, 256)}, {256}, [&] { swiglu(gu.data(), gu.data() + cols, gu.data(), m, cols, 2 * cols, 2 * cols, 2 * cols); });
        check("swiglu on the halves of a fused buffer", gu_expected, gu, 1e-6, 1e-5);
    }
    std::vector<float> special{1.0f, __uint_as_float(0x3f808000), __uint_as_float(0x3f818000), __uint_as_float(0x3f808001), -1.0f, INFINITY, NAN};
    std::vector<unsigned short> want{0x3f80, 0x3f80, 0x3f82, 0x3f81, 0xbf80, 0x7f80, 0x7fc0};
    std::vector<unsigned short> got(special.size());
    launch({1}, {256}, [&] { f32_to_bf16(special.data(), got.data(), (long long) special.size(), (int) special.size(), (int) special.size()); });
    bool ok = true; for (size_t i = 0; i < got.size(); i++) if (got[i] != want[i]) { ok = false; printf("f32_to_bf16 %zu: %x want %x\n", i, got[i], want[i]); }
    printf("%s f32_to_bf16\n", ok ? "ok  " : "FAIL"); if (!ok) failures++;
    {   // rows stride floats apart into a dense BF16 buffer (k or v inside the fused q/k/v output)
        int rows = 9, cols = 64, stride = 256, offset = 128;
        auto wide = random_vec(rows * stride, 3);
        std::vector<unsigned short> dense(rows * cols);
        launch({(unsigned) ceil_div(rows * cols, 256)}, {256}, [&] { f32_to_bf16(wide.data() + offset, dense.data(), (long long) rows * cols, cols, stride); });
        bool strided_ok = true;
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++)
            if (dense[r * cols + c] != float_to_bf16(wide[offset + r * stride + c])) strided_ok = false;
        printf("%s f32_to_bf16 of a column view\n", strided_ok ? "ok  " : "FAIL"); if (!strided_ok) failures++;
    }
    int rows = 50, cols = 300; auto src = random_vec(rows * cols, 1); std::vector<int> pick{49, 0, 16, 16, 7};
    std::vector<float> gathered(pick.size() * cols), gexp(pick.size() * cols);
    for (size_t i = 0; i < pick.size(); i++) for (int c = 0; c < cols; c++) gexp[i * cols + c] = src[pick[i] * cols + c];
    launch({(unsigned) pick.size()}, {(unsigned) row_threads(cols)}, [&] { gather_rows(src.data(), pick.data(), gathered.data(), cols); });
    check("gather_rows", gexp, gathered, 0, 0);
    int vocab = 100, hidden = 96; std::vector<unsigned short> table(vocab * hidden); std::vector<float> tf(vocab * hidden);
    for (int i = 0; i < vocab * hidden; i++) { table[i] = (unsigned short) (rng() & 0x7f7f); tf[i] = __uint_as_float(((unsigned) table[i]) << 16); }
    std::vector<int> ids{0, 99, 5, 5}; std::vector<float> emb(ids.size() * hidden), eexp(ids.size() * hidden);
    for (size_t t = 0; t < ids.size(); t++) for (int c = 0; c < hidden; c++) eexp[t * hidden + c] = tf[ids[t] * hidden + c];
    launch({(unsigned) ids.size()}, {(unsigned) row_threads(hidden)}, [&] { embed_rows_bf16(table.data(), ids.data(), emb.data(), hidden); });
    check("embed_rows_bf16", eexp, emb, 0, 0);
}

int main() {
    test_norms(3, 64); test_norms(2, 1024); test_norms(2, 2560); test_norms(1, 4096); test_norms(2, 100);
    test_head_norm(5, 16, 128, 16 * 128); test_head_norm(3, 4, 32, 4 * 32); test_head_norm(1, 3, 64, 3 * 64);
    test_head_norm(5, 16, 128, 32 * 128); test_head_norm(4, 2, 32, 8 * 32); // q and k inside a fused q/k/v row
    test_rope({1, 17, 40}, 4, 32, 1e6, 4 * 32); test_rope({3, 5}, 2, 128, 1e6, 2 * 128);
    test_rope({1, 17, 40}, 4, 32, 1e6, 8 * 32); test_rope({3, 5}, 2, 128, 1e6, 4 * 128);
    test_elementwise();
    for (bool zero : {true, false}) {
        for (int warps : {4, 8}) {
            test_attention<64>({1, 16, 17, 33, 70}, 8, 2, warps, zero, 8 * 64);
            test_attention<128>({5, 64, 65}, 4, 4, warps, zero, 4 * 128);
            test_attention<32>({2, 31, 32}, 4, 2, warps, zero, 4 * 32);
            test_attention<256>({40, 3}, 2, 1, warps, zero, 2 * 256);
            test_attention<128>({130, 1, 200}, 2, 1, warps, zero, 2 * 128);
            test_attention<64>({1, 16, 17, 33, 70}, 8, 2, warps, zero, (8 + 2 * 2) * 64); // q of a fused q/k/v
            test_attention<128>({130, 1, 200}, 2, 1, warps, zero, (2 + 2 * 1) * 128);
        }
    }
    printf(failures ? "%d FAILURES\n" : "all ok\n", failures);
    return failures != 0;
}
