package io.qembed.backend.cuda;

/** The rotary embedding's inverse frequencies, computed once on the host in double precision. */
final class RopeFrequencies {
    private RopeFrequencies() {}

    /** {@code theta^(-2i/headDim)} for {@code i < headDim/2}. */
    static double[] inverse(int headDim, double theta) {
        if (headDim <= 0 || headDim % 2 != 0 || !(theta > 1)) {
            throw new IllegalArgumentException("rope: headDim " + headDim + " must be positive and even, theta " + theta
                    + " above 1");
        }
        double[] values = new double[headDim / 2];
        for (int i = 0; i < values.length; i++) {
            values[i] = Math.pow(theta, -2.0 * i / headDim);
        }
        return values;
    }
}
