package io.qembed.backend.cpu;

import io.qembed.io.DType;
import java.util.ArrayList;
import java.util.List;

/**
 * Weights of one dtype and column count stacked along the rows, each still read in place (q, k and v of a
 * layer; gate and up): one product computes all of theirs without copying a weight. Row {@code r} is row
 * {@code r - firstRow(p)} of the part p that holds it.
 */
final class StackedMatrix extends WeightMatrix {
    private final MappedMatrix[] parts;
    private final int[] firstRows; // [parts + 1]: where each part starts, and the total last

    private StackedMatrix(MappedMatrix[] parts, int[] firstRows) {
        super(firstRows[parts.length], parts[0].cols());
        this.parts = parts;
        this.firstRows = firstRows;
    }

    /** The parts stacked in order: at least one, of one dtype and column count ({@code ShapeCheck.uploadStacked}). */
    static WeightMatrix of(List<MappedMatrix> parts) {
        int[] firstRows = new int[parts.size() + 1];
        for (int p = 0; p < parts.size(); p++) {
            firstRows[p + 1] = Math.addExact(firstRows[p], parts.get(p).rows());
        }
        return parts.size() == 1 ? parts.getFirst() : new StackedMatrix(parts.toArray(MappedMatrix[]::new), firstRows);
    }

    @Override
    DType dtype() {
        return parts[0].dtype();
    }

    @Override
    MappedMatrix[] parts() {
        return parts.clone();
    }

    @Override
    void rowToFloat(int row, int col, int count, float[] dst, int dstOffset) {
        int p = part(row);
        parts[p].rowToFloat(row - firstRows[p], col, count, dst, dstOffset);
    }

    /** The part holding row {@code row}: a linear search, as there are two or three. */
    private int part(int row) {
        int p = 0;
        while (row >= firstRows[p + 1]) {
            p++;
        }
        return p;
    }

    @Override
    public WeightMatrix rowSlice(int from, int to) {
        checkRows(from, to);
        if (from == to) {
            return parts[0].rowSlice(0, 0);
        }
        List<MappedMatrix> slices = new ArrayList<>();
        for (int p = 0; p < parts.length; p++) {
            int start = Math.max(from, firstRows[p]);
            int end = Math.min(to, firstRows[p + 1]);
            if (start < end) {
                slices.add(parts[p].rowSlice(start - firstRows[p], end - firstRows[p]));
            }
        }
        return of(slices);
    }
}
