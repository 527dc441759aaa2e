package io.qembed.server;

import io.qembed.api.EmbedException;
import io.qembed.api.EngineClosedException;
import io.qembed.api.NonFiniteOutputException;
import io.qembed.api.OverloadedException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the server tests' engine doubles ({@link FakeEmbedder}, {@link FakeReranker}) share: a one-thread
 * worker that computes queued work, a gate that holds it, and switches that make the engine refuse or fail
 * as the real one does.
 */
abstract class FakeEngine implements AutoCloseable {
    /** When set, submits are refused as if the queue were full. */
    volatile boolean overloaded;
    /** When set, batches fail as if the backend broke. */
    volatile boolean failing;
    /** When set, batches fail as the engine does when the model computes a NaN. */
    volatile boolean nonFinite;
    volatile boolean closed;
    /** Work queued. */
    final AtomicInteger submits = new AtomicInteger();
    /** Work waits here while held. */
    private volatile CountDownLatch gate = new CountDownLatch(0);
    private final ExecutorService worker = Executors.newSingleThreadExecutor();

    /** Makes work wait until {@link #release()}. */
    void hold() {
        gate = new CountDownLatch(1);
    }

    void release() {
        gate.countDown();
    }

    /** Refuses a submit as the engine does: closed, or its queue full. */
    void admit() {
        if (closed) {
            throw new EngineClosedException("closed");
        }
        if (overloaded) {
            throw new OverloadedException("the queue is full");
        }
    }

    /** The work a submit queues, given how long it waited for the worker (and the gate) and when it started. */
    @FunctionalInterface
    interface Work<T> {
        T compute(long queueNanos, long startNanos);
    }

    /**
     * Queues {@code work} on the worker; it fails there when {@link #failing} or {@link #nonFinite} is set
     * ({@code nonFiniteIndex}: the input the NaN is reported for).
     */
    <T> CompletableFuture<T> queue(int nonFiniteIndex, Work<T> work) {
        submits.incrementAndGet();
        long submitted = System.nanoTime();
        return CompletableFuture.supplyAsync(() -> {
            try {
                gate.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            long started = System.nanoTime();
            if (failing) {
                throw new EmbedException("backend fault");
            }
            if (nonFinite) {
                throw new NonFiniteOutputException(nonFiniteIndex);
            }
            return work.compute(started - submitted, started);
        }, worker);
    }

    @Override
    public void close() {
        closed = true;
        worker.shutdown();
    }
}
