package io.qembed.backend.cpu;

/**
 * Rotary cos/sin per position and frequency, {@code [positions, headDim / 2]} each. Angles follow
 * transformers' FP32 arithmetic: {@code inv_freq = 1 / theta^(2i / headDim)} and
 * {@code angle = position * inv_freq} rounded to FP32, then cos and sin in double, rounded to FP32.
 */
record RopeTable(int headDim, double theta, int positions, float[] cos, float[] sin) {

    static RopeTable of(int headDim, double theta, int positions) {
        int half = headDim / 2;
        float[] inverseFrequencies = inverseFrequencies(headDim, theta);
        float[] cos = new float[positions * half];
        float[] sin = new float[positions * half];
        for (int p = 0; p < positions; p++) {
            for (int i = 0; i < half; i++) {
                float angle = (float) p * inverseFrequencies[i];
                cos[p * half + i] = (float) Math.cos(angle);
                sin[p * half + i] = (float) Math.sin(angle);
            }
        }
        return new RopeTable(headDim, theta, positions, cos, sin);
    }

    /** {@code 1 / theta^(2i / headDim)} computed step by step in FP32, as transformers does. */
    static float[] inverseFrequencies(int headDim, double theta) {
        float[] inv = new float[headDim / 2];
        for (int i = 0; i < inv.length; i++) {
            float exponent = (float) (2 * i) / (float) headDim;
            float power = (float) Math.pow((float) theta, exponent);
            inv[i] = 1f / power;
        }
        return inv;
    }
}
