package io.qembed.cli;

import io.qembed.hub.HubSettings;
import io.qembed.hub.ModelResolver;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code qembed download}: fetches a model into the Hugging Face cache and prints its directory. */
@Command(
        name = "download",
        mixinStandardHelpOptions = true,
        description = {
            "Download a model from the Hugging Face Hub into its cache (or find it there) and print its directory.",
            "Honours HF_ENDPOINT, HF_HOME, HF_HUB_CACHE, HF_TOKEN and HF_HUB_OFFLINE."
        })
final class DownloadCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(
            index = "0",
            arity = "0..1",
            paramLabel = "MODEL",
            description = "Repository id, optionally @revision, or a local directory (default: "
                    + ModelResolver.DEFAULT_MODEL + ").")
    String model = ModelResolver.DEFAULT_MODEL;

    @Option(names = "--cache-dir", paramLabel = "DIR",
            description = "Hub cache directory (default: HF_HUB_CACHE, else ~/.cache/huggingface/hub).")
    Path cacheDir;

    @Option(names = "--offline", description = "Use the cache only, as HF_HUB_OFFLINE=1 does.")
    boolean offline;

    @Override
    public Integer call() {
        HubSettings env = HubSettings.fromEnvironment();
        HubSettings settings = new HubSettings(
                env.endpoint(), cacheDir != null ? cacheDir : env.cacheDir(), env.token(), offline || env.offline());
        Path dir = Models.resolve(model, settings, offline ? "--offline" : "HF_HUB_OFFLINE", false);
        spec.commandLine().getOut().println(dir.toAbsolutePath());
        return 0;
    }
}
