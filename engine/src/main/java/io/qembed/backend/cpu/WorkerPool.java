package io.qembed.backend.cpu;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The CPU backend's own threads: {@code threads - 1} named daemon workers plus the calling thread,
 * which takes part in every parallel loop. Never the common ForkJoinPool, which the HTTP server shares.
 */
final class WorkerPool implements AutoCloseable {

    /** The body of a parallel loop; {@code worker} in {@code [0, threads)} indexes per-worker scratch. */
    @FunctionalInterface
    interface Task {
        void run(int worker, int task);
    }

    private final int threads;
    private final ExecutorService executor;

    WorkerPool(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        this.threads = threads;
        AtomicInteger counter = new AtomicInteger();
        this.executor = threads == 1 ? null : Executors.newFixedThreadPool(threads - 1, runnable -> {
            Thread thread = new Thread(runnable, "qembed-cpu-worker-" + counter.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
    }

    int threads() {
        return threads;
    }

    /**
     * Runs {@code task.run(worker, t)} for every {@code t} in {@code [0, tasks)}, handing tasks out one
     * at a time so uneven tasks balance; returns when all are done and rethrows the first failure.
     */
    void forEach(int tasks, Task task) {
        int workers = Math.min(threads, tasks);
        if (workers <= 1) {
            for (int t = 0; t < tasks; t++) {
                task.run(0, t);
            }
            return;
        }
        if (executor.isShutdown()) {
            throw new IllegalStateException("the CPU worker pool is closed");
        }
        AtomicInteger next = new AtomicInteger();
        Future<?>[] helpers = new Future<?>[workers - 1];
        for (int w = 1; w < workers; w++) {
            int worker = w;
            helpers[w - 1] = executor.submit(() -> drain(next, tasks, worker, task));
        }
        Throwable failure = null;
        try {
            drain(next, tasks, 0, task);
        } catch (RuntimeException | Error e) {
            failure = e;
            next.set(tasks); // stop handing out work
        }
        // Wait for every helper even when interrupted: none may still write once this returns.
        boolean interrupted = false;
        for (Future<?> helper : helpers) {
            while (true) {
                try {
                    helper.get();
                    break;
                } catch (ExecutionException e) {
                    if (failure == null) {
                        failure = e.getCause();
                    }
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (failure instanceof RuntimeException r) {
            throw r;
        } else if (failure instanceof Error e) {
            throw e;
        } else if (failure != null) {
            throw new IllegalStateException("CPU worker failed", failure);
        }
    }

    private static void drain(AtomicInteger next, int tasks, int worker, Task task) {
        for (int t = next.getAndIncrement(); t < tasks; t = next.getAndIncrement()) {
            task.run(worker, t);
        }
    }

    @Override
    public void close() {
        if (executor != null) {
            executor.shutdownNow();
        }
    }
}
