package io.qembed.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
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

    /** Interrupting the caller neither cuts a loop short nor is lost: every task runs, the flag stays set. */
    @Test
    void finishesEveryTaskWhenTheCallerIsInterrupted() throws InterruptedException {
        try (WorkerPool pool = new WorkerPool(3)) {
            AtomicIntegerArray runs = new AtomicIntegerArray(50);
            AtomicBoolean interrupted = new AtomicBoolean();
            pool.forEach(50, (worker, task) -> {
                if (worker == 0 && !interrupted.getAndSet(true)) {
                    Thread.currentThread().interrupt(); // the caller's first task
                }
                LockSupport.parkNanos(200_000); // the helpers are still busy when the caller runs out of tasks
                runs.incrementAndGet(task);
            });
            assertTrue(Thread.interrupted(), "the caller's interrupt is kept");
            for (int t = 0; t < 50; t++) {
                assertEquals(1, runs.get(t), "task " + t);
            }
        }
    }

    /** Loops one after the other with pauses long enough for the helpers to park in between. */
    @Test
    void wakesParkedHelpers() throws InterruptedException {
        try (WorkerPool pool = new WorkerPool(2)) {
            for (int round = 0; round < 5; round++) {
                Thread.sleep(5);
                AtomicIntegerArray workers = new AtomicIntegerArray(2);
                pool.forEach(20, (worker, task) -> {
                    workers.incrementAndGet(worker);
                    LockSupport.parkNanos(1_000_000);
                });
                assertEquals(20, workers.get(0) + workers.get(1));
                assertTrue(workers.get(1) > 0, "the helper took part in round " + round);
            }
        }
    }

    @Test
    void closingStopsTheHelpers() throws InterruptedException {
        WorkerPool pool = new WorkerPool(3);
        Set<Thread> helpers = ConcurrentHashMap.newKeySet();
        while (helpers.size() < 2) {
            pool.forEach(30, (worker, task) -> {
                if (worker > 0) {
                    helpers.add(Thread.currentThread());
                }
                LockSupport.parkNanos(100_000);
            });
        }
        pool.close();
        for (Thread helper : helpers) {
            helper.join(10_000);
            assertFalse(helper.isAlive(), helper.getName() + " still runs");
        }
        assertThrows(IllegalStateException.class, () -> pool.forEach(10, (worker, task) -> {}));
    }
}
