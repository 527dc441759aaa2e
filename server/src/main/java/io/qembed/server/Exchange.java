package io.qembed.server;

import io.javalin.http.Context;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.ee10.servlet.ServletContextRequest;
import org.eclipse.jetty.io.EndPoint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One request while the server handles it: reads its body within the read timeout, waits for the engine,
 * and lets shutdown cut it short with a 503 when the drain timeout runs out.
 *
 * <p>Reading a body blocks a handler, so the read timeout bounds the whole body, not each read: before
 * every blocking read the connection's idle timeout is shortened to the time left, and restored after.
 * What a client breaks (a body that ends early, a bad chunk, a timeout) is answered 400 or 408, never
 * 500; a client that has gone away gets nothing but a debug log line, as writing to it fails quietly.
 */
final class Exchange {
    private static final Logger LOG = LoggerFactory.getLogger(Exchange.class);

    /** The idle timeout that makes a blocked read fail at once. */
    private static final long INTERRUPT_MILLIS = 1;

    final RequestRecord record;
    private final Context ctx;
    /** The connection, whose idle timeout bounds a blocking read; null where Jetty's is not reachable. */
    private final EndPoint endPoint;
    private boolean reading;
    /** Set when reading the body failed: the connection cannot carry another request. */
    private boolean bodyBroken;
    private CompletableFuture<?> engineWork;
    private volatile boolean cut;

    Exchange(RequestRecord record, Context ctx) {
        this.record = record;
        this.ctx = ctx;
        ServletContextRequest request = ServletContextRequest.getServletContextRequest(ctx.req());
        this.endPoint = request == null ? null : request.getConnectionMetaData().getConnection().getEndPoint();
    }

    /**
     * Reads the body: 413 once it passes {@code limit} (declared or streamed), 408 when it has not all
     * arrived within {@code timeout}, 400 when it breaks off or is malformed, 503 when shutdown cut it.
     */
    byte[] readBody(long limit, Duration timeout) {
        long declared = ctx.req().getContentLengthLong();
        if (declared > limit) {
            throw ApiException.tooLarge(
                    "the request body has " + declared + " bytes, more than the limit of " + limit, null);
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream((int) Math.clamp(declared, 256, 1 << 16));
        read(limit + 1, timeout, (buffer, n) -> {
            body.write(buffer, 0, n);
            if (body.size() > limit) {
                throw ApiException.tooLarge("the request body is larger than the limit of " + limit + " bytes", null);
            }
        });
        return body.toByteArray();
    }

    /**
     * Reads and drops what is left of a refused request's body (up to {@code limit} bytes, within {@code
     * timeout}), so that the connection stays usable for the client's next request. A body declared
     * above the limit, or one that could not be read, is not: that connection is closed after the answer.
     */
    void discardBody(long limit, Duration timeout) {
        if (bodyBroken || ctx.req().getContentLengthLong() > limit) {
            return;
        }
        try {
            read(limit, timeout, (buffer, n) -> {});
        } catch (ApiException | IllegalStateException e) {
            // the body was consumed already, broken, or late: the answer stands, the connection may close
        }
    }

    /** Receives what one read returned. */
    @FunctionalInterface
    private interface Sink {
        void accept(byte[] buffer, int n);
    }

    private void read(long maxBytes, Duration timeout, Sink sink) {
        long deadline = System.nanoTime() + timeout.toNanos();
        long idleTimeout = endPoint == null ? 0 : endPoint.getIdleTimeout(); // the connection's, restored after
        byte[] buffer = new byte[16384];
        long left = maxBytes;
        try (InputStream in = ctx.req().getInputStream()) {
            while (left > 0) {
                long millisLeft = (deadline - System.nanoTime()) / 1_000_000;
                if (millisLeft <= 0) {
                    throw new TimeoutException("read timeout");
                }
                startReading(millisLeft);
                int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
                if (n < 0) {
                    return;
                }
                left -= n;
                sink.accept(buffer, n);
            }
        } catch (IOException | TimeoutException e) {
            throw unreadable(e, timeout);
        } finally {
            stopReading(idleTimeout);
        }
    }

    private synchronized void startReading(long millis) {
        reading = true;
        if (endPoint != null) {
            endPoint.setIdleTimeout(cut ? INTERRUPT_MILLIS : millis);
        }
    }

    private synchronized void stopReading(long idleTimeout) {
        reading = false;
        if (endPoint != null && idleTimeout > 0) {
            endPoint.setIdleTimeout(idleTimeout);
        }
    }

    /** What a failed read tells the client (if it is still there to hear it). */
    private ApiException unreadable(Exception e, Duration timeout) {
        bodyBroken = true;
        LOG.debug("request {}: the body could not be read: {}", record.id, e.toString());
        if (cut) {
            return shuttingDown();
        }
        if (causedBy(e, TimeoutException.class)) {
            return ApiException.timeout("the request body did not arrive within the read timeout of "
                    + seconds(timeout));
        }
        String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return ApiException.invalid(
                "the request body could not be read: it ended early or is malformed (" + reason + ")", null);
    }

    /** Waits for the engine; its failures come out as the exceptions the embedder completed with. */
    <T> T await(CompletableFuture<T> work) {
        synchronized (this) {
            if (cut) {
                work.cancel(false);
                throw shuttingDown();
            }
            engineWork = work;
        }
        try {
            return work.get();
        } catch (ExecutionException e) {
            if (cut) {
                throw shuttingDown();
            }
            throw unwrap(e.getCause());
        } catch (CancellationException e) {
            throw shuttingDown();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            work.cancel(false);
            throw shuttingDown();
        } finally {
            synchronized (this) {
                engineWork = null;
            }
        }
    }

    /**
     * Cuts the request short (the drain timeout ran out): a read in progress fails at once, work queued in
     * the engine is dropped, and the handler answers 503.
     */
    synchronized void cut() {
        cut = true;
        if (reading && endPoint != null) {
            endPoint.setIdleTimeout(INTERRUPT_MILLIS);
        }
        if (engineWork != null) {
            engineWork.cancel(false);
        }
    }

    private static ApiException shuttingDown() {
        return ApiException.unavailable("the server is shutting down; retry on another instance or later");
    }

    private static boolean causedBy(Throwable t, Class<? extends Throwable> type) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (type.isInstance(c)) {
                return true;
            }
        }
        return false;
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }

    private static RuntimeException unwrap(Throwable cause) {
        while (cause instanceof CompletionException && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause instanceof RuntimeException r ? r : new IllegalStateException(cause);
    }
}
