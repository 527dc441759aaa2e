package io.qembed.spark;

import io.qembed.api.EmbedException;
import io.qembed.api.EmbedInput;
import io.qembed.api.EmbedOptions;
import io.qembed.api.Embedder;
import io.qembed.api.Embeddings;
import io.qembed.api.InvalidRequestException;
import io.qembed.api.OverloadedException;
import io.qembed.api.TokenizedInput;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.util.TaskCompletionListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Embeds one partition: rows are tokenised in the task's thread (a row the engine refuses is a bad row,
 * handled by the policy), gathered into chunks of about one batch of tokens and submitted to the
 * executor's shared engine, at most {@link #CHUNKS_IN_FLIGHT} at a time, so the engine always has the
 * next batch waiting while the task turns finished chunks into rows. Output keeps the input's order.
 */
final class PartitionEmbedder implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(PartitionEmbedder.class);
    /** Chunks submitted and not yet turned into rows: while the engine runs one, the next waits in its queue. */
    private static final int CHUNKS_IN_FLIGHT = 2;
    /** Bad rows an executor logs per task (under skip) before it only counts them. */
    private static final int LOGGED_BAD_ROWS = 20;
    /** The batch budget where the engine does not say. */
    private static final int DEFAULT_CHUNK_TOKENS = 8192;

    private final SparkEmbedder settings;
    private final int inputColumn;
    private final boolean tokenIds;
    private final int idColumn;
    private final EmbedMetrics metrics;

    PartitionEmbedder(SparkEmbedder settings, int inputColumn, boolean tokenIds, int idColumn, EmbedMetrics metrics) {
        this.settings = settings;
        this.inputColumn = inputColumn;
        this.tokenIds = tokenIds;
        this.idColumn = idColumn;
        this.metrics = metrics;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> input) {
        if (!input.hasNext()) {
            return Collections.emptyIterator(); // an empty partition loads no model
        }
        Embedder embedder = ExecutorModels.embedder(settings);
        EmbedOptions options = settings.options(ExecutorModels.postProcessor(settings.postProcessor()));
        Output output = new Output(input, embedder, options);
        TaskContext task = TaskContext.get();
        if (task != null) {
            task.addTaskCompletionListener((TaskCompletionListener) context -> output.cancel());
        }
        return output;
    }

    /** A row and what became of it: token ids to embed, or the reason it cannot be embedded. */
    private record Entry(Row row, int[] ids, String error) {}

    /** Consecutive entries submitted together; {@code result} is null when none of them is embeddable. */
    private record Chunk(List<Entry> entries, CompletableFuture<Embeddings> result) {}

    /** The partition's output rows, produced as chunks complete. */
    private final class Output implements Iterator<Row> {
        private final Iterator<Row> input;
        private final Embedder embedder;
        private final EmbedOptions options;
        private final int chunkTokens;
        private final ArrayDeque<Chunk> inFlight = new ArrayDeque<>();
        private final ArrayDeque<Row> ready = new ArrayDeque<>();
        private final int partition;
        private long rowNumber;
        private long badRows;

        Output(Iterator<Row> input, Embedder embedder, EmbedOptions options) {
            this.input = input;
            this.embedder = embedder;
            this.options = options;
            int budget = embedder.info().batchTokens();
            this.chunkTokens = budget > 0 ? budget : DEFAULT_CHUNK_TOKENS;
            TaskContext task = TaskContext.get();
            this.partition = task == null ? -1 : task.partitionId();
        }

        @Override
        public boolean hasNext() {
            while (ready.isEmpty()) {
                while (inFlight.size() < CHUNKS_IN_FLIGHT && input.hasNext()) {
                    submit(nextChunk());
                }
                if (inFlight.isEmpty()) {
                    return false;
                }
                finish(inFlight.poll());
            }
            return true;
        }

        @Override
        public Row next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            return ready.poll();
        }

        /** Reads rows until they hold a batch's worth of tokens or the partition ends. */
        private List<Entry> nextChunk() {
            List<Entry> entries = new ArrayList<>();
            int tokens = 0;
            while (tokens < chunkTokens && input.hasNext()) {
                Entry entry = tokenize(input.next());
                entries.add(entry);
                if (entry.ids() != null) {
                    tokens += entry.ids().length;
                }
            }
            return entries;
        }

        private Entry tokenize(Row row) {
            rowNumber++;
            String error;
            try {
                EmbedInput in = tokenIds ? tokenIds(row) : text(row);
                if (in != null) {
                    TokenizedInput t = embedder.tokenize(List.of(in), options).getFirst();
                    return new Entry(row, t.ids(), null);
                }
                error = tokenIds ? "the token ids are null" : row.isNullAt(inputColumn) ? "the text is null" : "the text is empty";
            } catch (BadInput e) {
                error = e.getMessage();
            } catch (InvalidRequestException e) {
                if (!"input".equals(e.param())) {
                    throw e; // an option no row could satisfy: the job's fault, not this row's
                }
                error = "the row " + e.reason();
            }
            return badRow(row, error);
        }

        /** The text to embed, or null for a null or empty text. */
        private EmbedInput text(Row row) {
            String text = row.isNullAt(inputColumn) ? null : row.getString(inputColumn);
            return text == null || text.isEmpty() ? null : EmbedInput.text(text);
        }

        /** The token ids to embed, or null for a null array. */
        private EmbedInput tokenIds(Row row) {
            if (row.isNullAt(inputColumn)) {
                return null;
            }
            List<Object> values = row.getList(inputColumn);
            int[] ids = new int[values.size()];
            for (int i = 0; i < ids.length; i++) {
                if (!(values.get(i) instanceof Number n)) {
                    throw new BadInput("the row's token id at position " + i + " is null");
                }
                long id = n.longValue();
                if (id != (int) id) { // beyond int, so beyond any vocabulary: said as the engine says it
                    throw new BadInput("the row has token id " + id + ", outside the vocabulary 0.."
                            + (embedder.info().vocabSize() - 1));
                }
                ids[i] = (int) id;
            }
            return EmbedInput.tokens(ids);
        }

        private Entry badRow(Row row, String reason) {
            String where = "partition " + partition + ", row " + rowNumber
                    + (idColumn >= 0 ? " (id " + row.get(idColumn) + ")" : "");
            switch (settings.onError()) {
                case FAIL -> throw new BadRowException(where + ": " + reason);
                case SKIP -> {
                    if (badRows < LOGGED_BAD_ROWS) {
                        LOG.warn("qembed: skipped {}: {}", where, reason);
                    }
                }
                case NULL -> {}
            }
            badRows++;
            return new Entry(row, null, reason);
        }

        /** Submits the embeddable entries; when the engine's queue is full, finishes this task's oldest chunk first. */
        private void submit(List<Entry> entries) {
            List<EmbedInput> inputs = new ArrayList<>();
            for (Entry e : entries) {
                if (e.ids() != null) {
                    inputs.add(EmbedInput.tokens(e.ids()));
                }
            }
            CompletableFuture<Embeddings> result = null;
            while (!inputs.isEmpty() && result == null) {
                try {
                    result = embedder.submit(inputs, options);
                } catch (OverloadedException e) {
                    waitForRoom();
                }
            }
            inFlight.add(new Chunk(entries, result));
        }

        /** The queue is full of other tasks' work: finish our own oldest chunk, or let theirs go first. */
        private void waitForRoom() {
            if (!inFlight.isEmpty()) {
                finish(inFlight.poll());
                return;
            }
            try {
                TimeUnit.MILLISECONDS.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the engine's queue", e);
            }
        }

        /** Waits for a chunk's vectors and turns its entries into output rows. */
        private void finish(Chunk chunk) {
            List<Embeddings.Embedding> vectors = chunk.result() == null ? List.of() : await(chunk.result()).data();
            int next = 0;
            long tokens = 0;
            long failed = 0;
            for (Entry e : chunk.entries()) {
                if (e.ids() != null) {
                    Embeddings.Embedding v = vectors.get(next++);
                    tokens += v.tokens();
                    ready.add(outputRow(e.row(), v.vector(), v.tokens(), null));
                } else {
                    failed++;
                    if (settings.onError() == ErrorPolicy.NULL) {
                        ready.add(outputRow(e.row(), null, null, e.error()));
                    }
                }
            }
            if (metrics != null) {
                metrics.addEmbedded(next, tokens);
                metrics.addFailed(failed);
            }
        }

        private Row outputRow(Row row, float[] vector, Integer tokens, String error) {
            boolean withError = settings.onError() == ErrorPolicy.NULL;
            Object[] values = new Object[row.length() + (withError ? 3 : 2)];
            for (int i = 0; i < row.length(); i++) {
                values[i] = row.get(i);
            }
            values[row.length()] = vector;
            values[row.length() + 1] = tokens;
            if (withError) {
                values[row.length() + 2] = error;
            }
            return RowFactory.create(values);
        }

        private Embeddings await(CompletableFuture<Embeddings> result) {
            try {
                return result.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while embedding", e);
            } catch (ExecutionException e) {
                throw e.getCause() instanceof EmbedException ee ? ee : new EmbedException("embedding failed", e.getCause());
            }
        }

        /** The task ended (finished, failed or killed): drop the work it no longer needs. */
        void cancel() {
            inFlight.forEach(c -> {
                if (c.result() != null) {
                    c.result().cancel(false);
                }
            });
        }
    }

    /** A row whose input is not even something to give the engine. */
    private static final class BadInput extends RuntimeException {
        BadInput(String message) {
            super(message);
        }
    }
}
