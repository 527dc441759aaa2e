package io.qembed.runtime;

import io.qembed.api.EmbedException;
import io.qembed.api.Embeddings;
import io.qembed.api.EngineClosedException;
import io.qembed.api.EngineConfig;
import io.qembed.api.NonFiniteOutputException;
import io.qembed.api.OverloadedException;
import io.qembed.api.TokenizedInput;
import io.qembed.backend.Batch;
import io.qembed.model.Qwen3Model;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The queue between callers and the model: sequences from all requests wait here, and one worker
 * thread, the only one that touches the backend, takes them oldest first up to a token budget,
 * sorts that batch by length and runs it as one packed batch.
 *
 * <p>The queue is bounded in tokens: a request that would overflow it is refused with {@link
 * OverloadedException}, so memory never grows without bound. A request whose future was cancelled
 * (its client went away) is skipped.
 */
final class BatchQueue {
    private final Qwen3Model model;
    private final int batchTokens;
    private final int maxQueuedTokens;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notEmpty = lock.newCondition();
    private final ArrayDeque<Job> jobs = new ArrayDeque<>();
    private final Thread worker;
    /** Completes futures off the worker, so callers' continuations never stall the model. */
    private final ExecutorService completions = Executors.newVirtualThreadPerTaskExecutor();
    private int queuedTokens;
    private volatile boolean closed;

    /**
     * The queue of {@code model} with batches of {@code budget} and the queue limit of {@code engineConfig}
     * (default: 16 batches).
     */
    static BatchQueue of(Qwen3Model model, BatchBudget budget, EngineConfig engineConfig) {
        int queuedTokens = engineConfig.maxQueuedTokens() > 0
                ? engineConfig.maxQueuedTokens()
                : (int) Math.min(Integer.MAX_VALUE, 16L * budget.batchTokens());
        return new BatchQueue(model, budget.batchTokens(), queuedTokens);
    }

    BatchQueue(Qwen3Model model, int batchTokens, int maxQueuedTokens) {
        this.model = model;
        this.batchTokens = batchTokens;
        this.maxQueuedTokens = maxQueuedTokens;
        this.worker = Thread.ofPlatform().name("qembed-worker").daemon().start(this::work);
    }

    /** One sequence of a request. */
    private record Job(Request request, int index, int[] ids) {}

    /** A submitted request: its future and the vectors gathered so far. */
    private static final class Request {
        final CompletableFuture<Embeddings> future = new CompletableFuture<>();
        final LocalEmbedder.Finisher finisher;
        final float[][] vectors;
        final int[] tokens;
        final int[] truncated;
        final long submitted = System.nanoTime();
        /** Why one of its inputs failed; set by the worker, which then completes nothing else of it. */
        EmbedException failure;
        long firstStart = -1;
        long inferenceNanos;
        int remaining;

        Request(List<TokenizedInput> inputs, LocalEmbedder.Finisher finisher) {
            this.finisher = finisher;
            this.vectors = new float[inputs.size()][];
            this.tokens = new int[inputs.size()];
            this.truncated = new int[inputs.size()];
            this.remaining = inputs.size();
            for (int i = 0; i < inputs.size(); i++) {
                tokens[i] = inputs.get(i).ids().length;
                truncated[i] = inputs.get(i).truncatedTokens();
            }
        }

        Embeddings result() {
            List<Embeddings.Embedding> data = new ArrayList<>(vectors.length);
            int total = 0;
            for (int i = 0; i < vectors.length; i++) {
                data.add(new Embeddings.Embedding(vectors[i], tokens[i], truncated[i]));
                total += tokens[i];
            }
            return new Embeddings(data, total, firstStart - submitted, inferenceNanos);
        }
    }

    boolean isClosed() {
        return closed;
    }

    CompletableFuture<Embeddings> submit(List<TokenizedInput> inputs, LocalEmbedder.Finisher finisher) {
        Request request = new Request(inputs, finisher);
        int tokens = Arrays.stream(request.tokens).sum();
        lock.lock();
        try {
            if (closed) {
                throw new EngineClosedException("the model is shutting down");
            }
            // An oversized request is still taken when nothing waits, else it could never run.
            if (!jobs.isEmpty() && queuedTokens + tokens > maxQueuedTokens) {
                throw new OverloadedException(
                        "the queue is full (" + queuedTokens + " tokens waiting, limit " + maxQueuedTokens + ")");
            }
            for (int i = 0; i < inputs.size(); i++) {
                jobs.add(new Job(request, i, inputs.get(i).ids()));
            }
            queuedTokens += tokens;
            notEmpty.signal();
        } finally {
            lock.unlock();
        }
        return request.future;
    }

    /** Oldest jobs first up to the token budget (at least one); null once closed and drained. */
    private List<Job> take() throws InterruptedException {
        lock.lock();
        try {
            while (jobs.isEmpty()) {
                if (closed) {
                    return null;
                }
                notEmpty.await();
            }
            List<Job> batch = new ArrayList<>();
            int tokens = 0;
            while (!jobs.isEmpty()) {
                Job next = jobs.peek();
                if (!batch.isEmpty() && tokens + next.ids().length > batchTokens) {
                    break;
                }
                jobs.poll();
                queuedTokens -= next.ids().length;
                if (next.request().future.isDone() || next.request().failure != null) {
                    continue; // cancelled or failed: costs nothing further
                }
                batch.add(next);
                tokens += next.ids().length;
            }
            return batch;
        } finally {
            lock.unlock();
        }
    }

    private void work() {
        try {
            List<Job> batch;
            while ((batch = take()) != null) {
                if (!batch.isEmpty()) {
                    run(batch);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            completions.shutdown();
        }
    }

    private void run(List<Job> batch) {
        batch.sort(Comparator.comparingInt(j -> j.ids().length));
        long start = System.nanoTime();
        float[] pooled; // [sequences, model.outputWidth()]
        try {
            pooled = model.forward(Batch.of(batch.stream().map(Job::ids).toList()));
        } catch (RuntimeException | Error e) {
            EmbedException failure = LocalEmbedder.inferenceFailure(e);
            batch.stream().map(Job::request).distinct().forEach(r -> completions.execute(
                    () -> r.future.completeExceptionally(failure)));
            return;
        }
        long elapsed = System.nanoTime() - start;
        int width = model.outputWidth(); // a pooled vector, or a reranker's logits
        List<Request> finished = new ArrayList<>();
        Set<Request> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (int s = 0; s < batch.size(); s++) {
            Job job = batch.get(s);
            Request r = job.request();
            if (seen.add(r)) {
                if (r.firstStart < 0) {
                    r.firstStart = start;
                }
                r.inferenceNanos += elapsed;
            }
            if (r.failure == null) {
                try {
                    float[] vector = r.finisher.finish(Arrays.copyOfRange(pooled, s * width, (s + 1) * width));
                    if (!allFinite(vector)) {
                        throw new NonFiniteOutputException(job.index());
                    }
                    r.vectors[job.index()] = vector;
                } catch (RuntimeException e) {
                    EmbedException failure = e instanceof EmbedException ee ? ee : LocalEmbedder.inferenceFailure(e);
                    r.failure = failure;
                    completions.execute(() -> r.future.completeExceptionally(failure));
                }
            }
            if (--r.remaining == 0 && r.failure == null) {
                finished.add(r);
            }
        }
        for (Request r : finished) {
            Embeddings result = r.result();
            completions.execute(() -> r.future.complete(result));
        }
    }

    /** Whether no value is NaN or infinite: a vector that is not never leaves the engine. */
    private static boolean allFinite(float[] vector) {
        for (float v : vector) {
            if (!Float.isFinite(v)) {
                return false;
            }
        }
        return true;
    }

    /** Refuses new work, lets the worker finish what is queued, and waits for it. */
    void close() {
        lock.lock();
        try {
            closed = true;
            notEmpty.signalAll();
        } finally {
            lock.unlock();
        }
        try {
            worker.join();
            completions.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
