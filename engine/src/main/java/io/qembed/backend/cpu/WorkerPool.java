package io.qembed.backend.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * The CPU backend's own threads: {@code threads - 1} named daemon workers plus the calling thread,
 * which takes part in every parallel loop. Never the common ForkJoinPool, which the HTTP server shares.
 *
 * <p>A pass over a short input runs hundreds of parallel loops of a few hundred microseconds each (about ten
 * per layer), so handing a loop over must cost far less than waking a parked thread: a loop is published
 * in one volatile field, and a worker, and the caller waiting for the workers, spin for {@link #SPIN_NANOS}
 * before they park. Workers parked (between passes) are unparked by the loop that needs them.
 */
final class WorkerPool implements AutoCloseable {

    /** The body of a parallel loop; {@code worker} in {@code [0, threads)} indexes per-worker scratch. */
    @FunctionalInterface
    interface Task {
        void run(int worker, int task);
    }

    /** How long a waiting thread spins before it parks: longer than the gaps between the loops of a pass. */
    private static final long SPIN_NANOS = 50_000;

    /** One parallel loop: workers {@code 1 .. workers - 1} take part beside the caller. */
    private static final class Loop {
        final int tasks;
        /** Cleared once the loop is done: the loop a helper saw last must not keep its data reachable. */
        Task task;
        final int workers;
        final Thread caller = Thread.currentThread();
        final AtomicInteger next = new AtomicInteger();
        /** Helpers still running. */
        final AtomicInteger pending;
        final AtomicReference<Throwable> failure = new AtomicReference<>();

        Loop(int tasks, Task task, int workers) {
            this.tasks = tasks;
            this.task = task;
            this.workers = workers;
            this.pending = new AtomicInteger(workers - 1);
        }

        void drain(int worker) {
            try {
                for (int t = next.getAndIncrement(); t < tasks; t = next.getAndIncrement()) {
                    task.run(worker, t);
                }
            } catch (RuntimeException | Error e) {
                failure.compareAndSet(null, e);
                next.set(tasks); // stop handing out work
            }
        }
    }

    private final int threads;
    private final Thread[] helpers;
    /** Whether helper w is parked (or about to): the next loop must unpark it. */
    private final AtomicInteger[] parked;
    private volatile Loop loop;
    private volatile boolean closed;

    WorkerPool(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        this.threads = threads;
        this.helpers = new Thread[threads];
        this.parked = new AtomicInteger[threads];
        for (int w = 1; w < threads; w++) {
            int worker = w;
            parked[w] = new AtomicInteger();
            helpers[w] = new Thread(() -> work(worker), "qembed-cpu-worker-" + w);
            helpers[w].setDaemon(true);
            helpers[w].start();
        }
    }

    int threads() {
        return threads;
    }

    /**
     * Runs {@code task.run(worker, t)} for every {@code t} in {@code [0, tasks)}, handing tasks out one
     * at a time so uneven tasks balance; returns when all are done and rethrows the first failure (the
     * caller's own first). One loop at a time: the backend is called from one thread at a time.
     */
    void forEach(int tasks, Task task) {
        int workers = Math.min(threads, tasks);
        if (workers <= 1) {
            for (int t = 0; t < tasks; t++) {
                task.run(0, t);
            }
            return;
        }
        if (closed) {
            throw new IllegalStateException("the CPU worker pool is closed");
        }
        Loop current = new Loop(tasks, task, workers);
        loop = current;
        for (int w = 1; w < workers; w++) {
            if (parked[w].get() != 0) {
                LockSupport.unpark(helpers[w]);
            }
        }
        Throwable failure = null;
        try {
            for (int t = current.next.getAndIncrement(); t < tasks; t = current.next.getAndIncrement()) {
                task.run(0, t);
            }
        } catch (RuntimeException | Error e) {
            failure = e;
            current.next.set(tasks); // stop handing out work
        }
        // Wait for every helper even when interrupted: none may still write once this returns.
        boolean interrupted = false;
        long spinUntil = System.nanoTime() + SPIN_NANOS;
        while (current.pending.get() != 0) {
            if (System.nanoTime() < spinUntil) {
                Thread.onSpinWait();
            } else {
                LockSupport.park(this);
                interrupted |= Thread.interrupted();
            }
        }
        current.task = null;
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (failure == null) {
            failure = current.failure.get();
        }
        if (failure instanceof RuntimeException r) {
            throw r;
        } else if (failure instanceof Error e) {
            throw e;
        } else if (failure != null) {
            throw new IllegalStateException("CPU worker failed", failure);
        }
    }

    /** A helper's life: wait for a loop it takes part in, drain it, report, until the pool closes. */
    private void work(int worker) {
        Loop done = null;
        while (true) {
            Loop current = awaitLoop(done, worker);
            if (current == null) {
                return;
            }
            done = current;
            if (worker < current.workers) {
                current.drain(worker);
                if (current.pending.decrementAndGet() == 0) {
                    LockSupport.unpark(current.caller);
                }
            }
        }
    }

    /** The next loop after {@code done}, spinning a while and then parked; null once the pool is closed. */
    private Loop awaitLoop(Loop done, int worker) {
        long spinUntil = System.nanoTime() + SPIN_NANOS;
        while (true) {
            Loop current = loop;
            if (closed) {
                return null;
            }
            if (current != done) {
                return current;
            }
            if (System.nanoTime() < spinUntil) {
                Thread.onSpinWait();
                continue;
            }
            // Announce the park, then look once more: a loop published in between sees the flag and unparks.
            parked[worker].set(1);
            if (loop == done && !closed) {
                LockSupport.park(this);
            }
            parked[worker].set(0);
            Thread.interrupted(); // a helper is stopped by close(), not by interrupts
            spinUntil = System.nanoTime() + SPIN_NANOS;
        }
    }

    @Override
    public void close() {
        closed = true;
        for (int w = 1; w < threads; w++) {
            LockSupport.unpark(helpers[w]);
        }
    }
}
