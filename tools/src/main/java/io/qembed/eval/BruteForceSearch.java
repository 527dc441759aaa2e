package io.qembed.eval;

import io.qembed.post.VectorMath;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Exact top-k search by dot product (cosine for unit vectors): every query against every document,
 * vectorised (Vector API), on a small thread pool of its own.
 *
 * <p>Documents arrive in blocks and are never all needed at once: memory is the queries, one block,
 * and {@code threads × queries × k} kept pairs. Each thread scans a slice of every block for all
 * queries, a tile of queries at a time so a document row is reused from cache; the threads' heaps are
 * merged at the end. Ties rank the lower document index first (see {@link TopK}).
 */
public final class BruteForceSearch implements AutoCloseable {
    /**
     * Queries scored against one document row while it is in cache: at 1024 dimensions 64 queries are
     * 256 KB (they stay in L2) and each document is read from memory once per 64 queries.
     */
    private static final int QUERY_TILE = 64;
    /** Rows per block when searching documents held in memory. */
    private static final int BLOCK_ROWS = 8192;

    private final int threads;
    private final ExecutorService pool;

    /** A search with {@code threads} workers (0 for one per available core). */
    public BruteForceSearch(int threads) {
        if (threads < 0) {
            throw new IllegalArgumentException("threads must not be negative, got " + threads);
        }
        this.threads = threads == 0 ? Runtime.getRuntime().availableProcessors() : threads;
        AtomicInteger counter = new AtomicInteger();
        this.pool = Executors.newFixedThreadPool(this.threads, r -> {
            Thread t = new Thread(r, "qembed-search-" + counter.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** Searches documents held in memory; {@code docs[i]} is document i. */
    public TopK.Ranking[] search(float[][] queries, float[][] docs, int k) {
        List<float[][]> blocks = new ArrayList<>();
        for (int from = 0; from < docs.length; from += BLOCK_ROWS) {
            blocks.add(Arrays.copyOfRange(docs, from, Math.min(docs.length, from + BLOCK_ROWS)));
        }
        return search(queries, blocks.iterator(), k);
    }

    /**
     * Searches documents that arrive in blocks; document indices count on from block to block. A block
     * may be dropped by the caller once the iterator has moved past it.
     *
     * @throws IllegalArgumentException when a vector's length differs from the queries'
     */
    public TopK.Ranking[] search(float[][] queries, Iterator<float[][]> docBlocks, int k) {
        int q = queries.length;
        if (q == 0) {
            return new TopK.Ranking[0];
        }
        int dims = queries[0].length;
        for (float[] query : queries) {
            checkLength(query, dims, "query");
        }
        TopK[][] perThread = new TopK[threads][q];
        for (TopK[] heaps : perThread) {
            for (int i = 0; i < q; i++) {
                heaps[i] = new TopK(k);
            }
        }
        int offset = 0;
        while (docBlocks.hasNext()) {
            float[][] block = docBlocks.next();
            for (float[] doc : block) {
                checkLength(doc, dims, "document");
            }
            int rows = block.length;
            int slice = (rows + threads - 1) / threads;
            List<Callable<Void>> tasks = new ArrayList<>();
            for (int t = 0; t < threads && t * slice < rows; t++) {
                int from = t * slice;
                int to = Math.min(rows, from + slice);
                TopK[] heaps = perThread[t];
                int base = offset;
                tasks.add(() -> {
                    scan(queries, block, from, to, base, heaps);
                    return null;
                });
            }
            runAll(tasks);
            offset += rows;
        }
        TopK.Ranking[] rankings = new TopK.Ranking[q];
        for (int i = 0; i < q; i++) {
            TopK merged = new TopK(k);
            for (TopK[] heaps : perThread) {
                merged.addAll(heaps[i]);
            }
            rankings[i] = merged.ranking();
        }
        return rankings;
    }

    private static void checkLength(float[] v, int dims, String what) {
        if (v.length != dims) {
            throw new IllegalArgumentException(what + " vector has " + v.length + " dimensions, expected " + dims);
        }
    }

    /** Scores rows [from, to) of a block against all queries. */
    private static void scan(float[][] queries, float[][] block, int from, int to, int base, TopK[] heaps) {
        int dims = queries[0].length;
        float[] scores = new float[4];
        for (int tile = 0; tile < queries.length; tile += QUERY_TILE) {
            int tileEnd = Math.min(queries.length, tile + QUERY_TILE);
            for (int row = from; row < to; row++) {
                float[] doc = block[row];
                int qi = tile;
                for (; qi + 4 <= tileEnd; qi += 4) {
                    VectorMath.dot4(queries[qi], queries[qi + 1], queries[qi + 2], queries[qi + 3], doc, dims, scores);
                    for (int j = 0; j < 4; j++) {
                        heaps[qi + j].offer(scores[j], base + row);
                    }
                }
                for (; qi < tileEnd; qi++) {
                    heaps[qi].offer(VectorMath.dot(queries[qi], 0, doc, 0, dims), base + row);
                }
            }
        }
    }

    private void runAll(List<Callable<Void>> tasks) {
        try {
            for (Future<Void> f : pool.invokeAll(tasks)) {
                f.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("search interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException("search failed", e.getCause());
        }
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
