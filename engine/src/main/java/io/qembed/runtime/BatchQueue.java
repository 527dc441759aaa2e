package io.qembed.runtime;

import io.qembed.api.EmbedException;
import io.qembed.api.Embeddings;
import io.qembed.api.EngineClosedException;
import io.qembed.api.EngineConfig;
import io.qembed.api.NonFiniteOutputException;
import io.qembed.api.OverloadedException;
import io.qembed.api.TokenizedInput;
import io.qembed.model.Qwen3Model;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The queue between callers and the model: sequences from all requests wait here, and one worker
 * thread, the only one that touches the backend, takes them oldest first up to a token budget,
 * sorts that batch by length and runs it as one packed batch. A queue that shares prefixes (the reranker's)
 * groups the sequences of a batch by the token prefixes they share ({@link SharedPrefixes}): the budget then
 * counts the tokens the pass computes, each shared prefix once.
 *
 * <p>The queue is bounded in tokens: a request that would overflow it is refused with {@link
 * OverloadedException}, so memory never grows without bound. A request whose future was cancelled
 * (its client went away) is skipped.
 */
final class BatchQueue {
    private final Qwen3Model model;
    private final int batchTokens;
    private final int maxQueuedTokens;
    private final int sharedPrefixAlignment; // 0: sequences packed whole
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
        return of(model, budget, engineConfig, false);
    }

    /**
     * {@link #of(Qwen3Model, BatchBudget, EngineConfig)}, sharing the prefixes of a batch's sequences when
     * {@code sharePrefixes} and the model's backend supports it ({@link
     * io.qembed.backend.Backend#sharedPrefixAlignment()}).
     */
    static BatchQueue of(Qwen3Model model, BatchBudget budget, EngineConfig engineConfig, boolean sharePrefixes) {
        int queuedTokens = engineConfig.maxQueuedTokens() > 0
                ? engineConfig.maxQueuedTokens()
                : (int) Math.min(Integer.MAX_VALUE, 16L * budget.batchTokens());
        int alignment = sharePrefixes ? model.backend().sharedPrefixAlignment() : 0;
        return new BatchQueue(model, budget.batchTokens(), queuedTokens, alignment);
    }

    BatchQueue(Qwen3Model model, int batchTokens, int maxQueuedTokens) {
        this(model, batchTokens, maxQueuedTokens, 0);
    }

    BatchQueue(Qwen3Model model, int batchTokens, int maxQueuedTokens, int sharedPrefixAlignment) {
        this.model = model;
        this.batchTokens = batchTokens;
        this.maxQueuedTokens = maxQueuedTokens;
        this.sharedPrefixAlignment = sharedPrefixAlignment;
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

    /** Jobs taken for one pass, grouped as the pass computes them. */
    private record Taken(List<Job> jobs, SharedPrefixes grouping) {}

    /**
     * Oldest jobs first while the tokens the pass computes fit the budget (at least one job); null once closed
     * and drained.
     */
    private Taken take() throws InterruptedException {
        lock.lock();
        try {
            while (jobs.isEmpty()) {
                if (closed) {
                    return null;
                }
                notEmpty.await();
            }
            List<Job> batch = new ArrayList<>();
            SharedPrefixes grouping = new SharedPrefixes(sharedPrefixAlignment);
            while (!jobs.isEmpty()) {
                Job next = jobs.peek();
                if (!batch.isEmpty() && grouping.computedTokensWith(next.ids()) > batchTokens) {
                    break;
                }
                jobs.poll();
                queuedTokens -= next.ids().length;
                if (next.request().future.isDone() || next.request().failure != null) {
                    continue; // cancelled or failed: costs nothing further
                }
                batch.add(next);
                grouping.add(next.ids());
            }
            return new Taken(batch, grouping);
        } finally {
            lock.unlock();
        }
    }

    private void work() {
        try {
            Taken taken;
            while ((taken = take()) != null) {
                if (!taken.jobs().isEmpty()) {
                    run(taken.jobs(), taken.grouping().pack());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            completions.shutdown();
        }
    }

    /** Runs the jobs as {@code packed}, job j's output at sequence {@code packed.sequenceOf()[j]}. */
    private void run(List<Job> batch, SharedPrefixes.Packed packed) {
        long start = System.nanoTime();
        float[] pooled; // [sequences, model.outputWidth()]
        try {
            pooled = model.forward(packed.batch());
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
                    int row = packed.sequenceOf()[s];
                    float[] vector = r.finisher.finish(Arrays.copyOfRange(pooled, row * width, (row + 1) * width));
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
