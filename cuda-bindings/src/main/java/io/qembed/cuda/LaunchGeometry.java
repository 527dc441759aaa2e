package io.qembed.cuda;

/**
 * Grid and block dimensions of one kernel launch, with the dynamic shared memory it needs. The
 * constructor enforces the limits every CUDA device shares: at most 1024 threads per block, block z
 * at most 64, grid x below 2^31 and grid y, z at most 65535.
 */
public record LaunchGeometry(int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ, int sharedBytes) {

    public static final int MAX_THREADS_PER_BLOCK = 1024;

    public LaunchGeometry {
        if (gridX < 1 || gridY < 1 || gridZ < 1 || blockX < 1 || blockY < 1 || blockZ < 1) {
            throw new IllegalArgumentException("launch dimensions must be positive: " + describe(gridX, gridY, gridZ,
                    blockX, blockY, blockZ));
        }
        if (gridY > 65535 || gridZ > 65535) {
            throw new IllegalArgumentException("grid y and z are limited to 65535: " + describe(gridX, gridY, gridZ,
                    blockX, blockY, blockZ));
        }
        if ((long) blockX * blockY * blockZ > MAX_THREADS_PER_BLOCK || blockZ > 64) {
            throw new IllegalArgumentException("a block holds at most 1024 threads (z at most 64): "
                    + describe(gridX, gridY, gridZ, blockX, blockY, blockZ));
        }
        if (sharedBytes < 0) {
            throw new IllegalArgumentException("negative shared memory: " + sharedBytes);
        }
    }

    /** A one-dimensional launch covering {@code elements} with {@code threadsPerBlock}-thread blocks. */
    public static LaunchGeometry linear(long elements, int threadsPerBlock) {
        return new LaunchGeometry(Math.toIntExact(ceilDiv(Math.max(elements, 1), threadsPerBlock)), 1, 1,
                threadsPerBlock, 1, 1, 0);
    }

    /** One block of {@code threadsPerBlock} threads per row: row-wise kernels (norms, gathers). */
    public static LaunchGeometry perRow(int rows, int threadsPerBlock) {
        return new LaunchGeometry(rows, 1, 1, threadsPerBlock, 1, 1, 0);
    }

    /** {@code ceil(a / b)} for positive b. */
    public static long ceilDiv(long a, long b) {
        if (b <= 0 || a < 0) {
            throw new IllegalArgumentException("ceilDiv(" + a + ", " + b + ")");
        }
        return (a + b - 1) / b;
    }

    public LaunchGeometry withSharedBytes(int bytes) {
        return new LaunchGeometry(gridX, gridY, gridZ, blockX, blockY, blockZ, bytes);
    }

    public long threadsPerBlock() {
        return (long) blockX * blockY * blockZ;
    }

    private static String describe(int gx, int gy, int gz, int bx, int by, int bz) {
        return "grid (" + gx + ", " + gy + ", " + gz + "), block (" + bx + ", " + by + ", " + bz + ")";
    }
}
