package io.qembed.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class WorkerPoolTest {

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 5})
    void runsEveryTaskExactlyOnceWithWorkerIndexesInRange(int threads) {
        try (WorkerPool pool = new WorkerPool(threads)) {
            for (int tasks : new int[] {0, 1, 2, 7, 1000}) {
                AtomicIntegerArray runs = new AtomicIntegerArray(tasks);
                pool.forEach(tasks, (worker, task) -> {
                    assertTrue(worker >= 0 && worker < threads, "worker " + worker);
                    runs.incrementAndGet(task);
                });
                for (int t = 0; t < tasks; t++) {
                    assertEquals(1, runs.get(t), "task " + t + " of " + tasks);
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void rethrowsATaskFailureAfterAllWorkersStopped(int threads) {
        IllegalStateException boom = new IllegalStateException("boom");
        try (WorkerPool pool = new WorkerPool(threads)) {
            RuntimeException thrown = assertThrows(RuntimeException.class, () -> pool.forEach(100, (worker, task) -> {
                if (task == 37) {
                    throw boom;
                }
            }));
            assertSame(boom, thrown);
            // The pool still works afterwards.
            AtomicIntegerArray runs = new AtomicIntegerArray(10);
            pool.forEach(10, (worker, task) -> runs.incrementAndGet(task));
            for (int t = 0; t < 10; t++) {
                assertEquals(1, runs.get(t));
            }
        }
    }
}
