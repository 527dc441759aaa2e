package io.qembed.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.qembed.backend.cuda.BenchmarkOptions.BatchShape;
import java.util.List;
import org.junit.jupiter.api.Test;

class BenchmarkIdsTest {
    /**
     * The same ids as bench/torch_reference.py's {@code random_ids(1, 2, 5, 151669)}, printed by that
     * script: the two implementations of the generator must agree for both sides to run the same batches.
     */
    @Test
    void theSameIdsAsThePyTorchScript() {
        List<int[]> ids = BenchmarkIds.random(1, new BatchShape(2, 5), 151669);
        assertArrayEquals(new int[] {58771, 115382, 106218, 132450, 151643}, ids.get(0));
        assertArrayEquals(new int[] {131755, 82560, 100578, 49702, 151643}, ids.get(1));
    }

    @Test
    void ordinaryIdsStayBelowTheVocabularyAndTheSpecialTokens() {
        List<int[]> small = BenchmarkIds.random(3, new BatchShape(4, 300), 1000);
        for (int[] sequence : small) {
            assertEquals(999, sequence[sequence.length - 1]); // the vocabulary ends before the end token
            for (int t = 0; t < sequence.length - 1; t++) {
                assertEquals(true, sequence[t] >= 0 && sequence[t] < 1000, "id " + sequence[t]);
            }
        }
        for (int[] sequence : BenchmarkIds.random(3, new BatchShape(2, 2000), 151669)) {
            for (int t = 0; t < sequence.length - 1; t++) {
                assertEquals(true, sequence[t] < BenchmarkIds.END_TOKEN, "id " + sequence[t]);
            }
        }
    }
}
