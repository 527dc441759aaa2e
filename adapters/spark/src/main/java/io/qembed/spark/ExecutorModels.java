package io.qembed.spark;

import io.qembed.api.EmbedException;
import io.qembed.api.Embedder;
import io.qembed.api.EngineConfig;
import io.qembed.api.ModelLoadException;
import io.qembed.api.PostProcessor;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.SparkEnv;
import org.apache.spark.SparkFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The models of this JVM (an executor, or the driver in local mode): each model and engine setting is
 * loaded once, by the first task that needs it, and shared by every task after it (an {@link Embedder}
 * is thread-safe and packs concurrent tasks' rows into the same batches). Models stay loaded for the
 * life of the JVM: an executor runs one application, whose jobs reuse them.
 */
final class ExecutorModels {
    private static final Logger LOG = LoggerFactory.getLogger(ExecutorModels.class);
    /** {@code local}, {@code local[N]}, {@code local[*]}, {@code local[N,F]}, {@code local[*,F]}. */
    private static final Pattern LOCAL_MASTER = Pattern.compile("local(?:\\[(\\d+|\\*)(?:,\\d+)?])?");

    private static final Map<Key, Embedder> EMBEDDERS = new HashMap<>();
    private static final Map<String, PostProcessor> POST_PROCESSORS = new HashMap<>();
    private static final AtomicInteger LOADS = new AtomicInteger();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(ExecutorModels::closeAll, "qembed-models-close"));
    }

    private ExecutorModels() {}

    private record Key(String model, EngineConfig config) {}

    /** The embedder for these settings, loading the model if this JVM has not yet. */
    static synchronized Embedder embedder(SparkEmbedder settings) {
        EngineConfig config = settings.engineConfig(executorCores());
        Key key = new Key(settings.model(), config);
        Embedder embedder = EMBEDDERS.get(key);
        if (embedder == null) {
            long start = System.nanoTime();
            String location = distributed(settings.model()).map(Path::toString).orElse(settings.model());
            try {
                embedder = Embedder.open(location, config);
            } catch (ModelLoadException e) {
                throw new ModelUnavailableException("cannot load the model: " + e.getMessage());
            } catch (EmbedException e) { // the hub could not resolve or download it, or the backend did not start
                throw new ModelUnavailableException("cannot load the model " + location + ": " + e.getMessage());
            }
            LOADS.incrementAndGet();
            EMBEDDERS.put(key, embedder);
            LOG.info("qembed: loaded {} from {} ({} backend, {} threads, batches of {} tokens) in {} ms",
                    embedder.info().name(), location, embedder.info().backend(), config.threads(),
                    embedder.info().batchTokens(), (System.nanoTime() - start) / 1_000_000);
        }
        return embedder;
    }

    /** The post-processing transform of a file, loaded once per JVM; null for none. */
    static synchronized PostProcessor postProcessor(String file) {
        if (file == null) {
            return null;
        }
        PostProcessor post = POST_PROCESSORS.get(file);
        if (post == null) {
            try {
                post = PostProcessor.load(distributed(file).orElse(Path.of(file)));
            } catch (ModelLoadException e) {
                throw new ModelUnavailableException("cannot load the post-processing transform: " + e.getMessage());
            }
            POST_PROCESSORS.put(file, post);
        }
        return post;
    }

    /** How many models this JVM has loaded. */
    static int loads() {
        return LOADS.get();
    }

    /**
     * The copy Spark shipped to this node ({@code --files}, {@code --archives}, {@code addFile}) of a
     * name that is not a local path, if there is one.
     */
    private static Optional<Path> distributed(String name) {
        if (Files.exists(Path.of(name)) || SparkEnv.get() == null) {
            return Optional.empty();
        }
        File shipped = new File(SparkFiles.get(name));
        return shipped.exists() ? Optional.of(shipped.toPath()) : Optional.empty();
    }

    /**
     * The cores Spark gave this executor: {@code spark.executor.cores} where set, N of {@code
     * local[N]} in local mode, else the machine's processors.
     */
    static int executorCores() {
        SparkEnv env = SparkEnv.get();
        int processors = Runtime.getRuntime().availableProcessors();
        if (env == null) {
            return processors;
        }
        if (env.conf().contains("spark.executor.cores")) {
            return env.conf().getInt("spark.executor.cores", processors);
        }
        return localCores(env.conf().get("spark.master", ""), processors);
    }

    /** The task slots of a local master URL, or {@code otherwise} for another master. */
    static int localCores(String master, int otherwise) {
        Matcher m = LOCAL_MASTER.matcher(master);
        if (!m.matches()) {
            return otherwise;
        }
        if (m.group(1) == null) {
            return 1;
        }
        return m.group(1).equals("*") ? otherwise : Integer.parseInt(m.group(1));
    }

    private static synchronized void closeAll() {
        EMBEDDERS.values().forEach(Embedder::close);
        EMBEDDERS.clear();
    }
}
