package io.qembed.cli;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qembed.api.Calibration;
import io.qembed.api.EmbedException;
import io.qembed.api.EmbedInput;
import io.qembed.api.EmbedOptions;
import io.qembed.api.Embedder;
import io.qembed.api.Embeddings;
import io.qembed.api.InputTooLongException;
import io.qembed.api.InvalidRequestException;
import io.qembed.api.ModelLoadException;
import io.qembed.api.NonFiniteOutputException;
import io.qembed.api.OutputType;
import io.qembed.cli.options.EmbeddingOptions;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code qembed embed}: JSONL in ({@code {"id"?, "text"}} or {@code {"id"?, "token_ids"}} per line),
 * JSONL out ({@code {"id", "tokens", "embedding"}}) in input order.
 */
@Command(
        name = "embed",
        mixinStandardHelpOptions = true,
        description = {
            "Embed texts or token ids read as JSONL and write their vectors as JSONL.",
            "Each input line is an object with \"text\" (a string) or \"token_ids\" (an array of ints), and an"
                    + " optional \"id\" echoed back.",
            "Each output line, in input order: {\"id\": ..., \"tokens\": N, \"embedding\": [...]}.",
            "With --embedding-type, \"embedding\" holds integers (int8, uint8, binary, ubinary) or the base64 of the"
                    + " little-endian values (float16, bfloat16)."
        })
public final class EmbedCommand implements Callable<Integer> {
    /** Inputs submitted at once: enough to fill packed batches, small enough to stream big files. */
    private static final int CHUNK = 1024;

    @Mixin EngineOptions engine;

    @Mixin JsonLinesFiles files;

    @Mixin EmbeddingOptions embedding;

    @Option(names = "--embedding-type", defaultValue = "float", paramLabel = "TYPE",
            description = "The output type: float, float16, bfloat16, int8, uint8, binary or ubinary, made after"
                    + " post-processing, --dimensions and normalisation (default: ${DEFAULT-VALUE}).")
    String embeddingType;

    @Option(names = "--calibration", paramLabel = "FILE",
            description = "The ranges int8 and uint8 need, from qembed calibrate.")
    Path calibration;

    private final ObjectMapper json = new ObjectMapper();

    @Override
    public Integer call() throws IOException {
        EmbedOptions options = options();
        try (JsonLineReader in = files.lines("a JSON object with \"text\" or \"token_ids\"");
                OutputStream out = files.writer();
                JsonGenerator gen = json.createGenerator(out).setRootValueSeparator(null);
                Embedder embedder = engine.open()) {
            List<Line> chunk = new ArrayList<>(CHUNK);
            JsonLineReader.Line line;
            while ((line = in.next()) != null) {
                chunk.add(parse(line));
                if (chunk.size() == CHUNK) {
                    write(embedder, chunk, options, gen, out);
                    chunk.clear();
                }
            }
            if (!chunk.isEmpty()) {
                write(embedder, chunk, options, gen, out);
            }
        }
        return 0;
    }

    private EmbedOptions options() {
        OutputType type;
        try {
            type = OutputType.parse(embeddingType);
        } catch (IllegalArgumentException e) {
            throw new UserException("--embedding-type: " + e.getMessage());
        }
        Calibration ranges = null;
        if (calibration != null) {
            try {
                ranges = Calibration.load(calibration);
            } catch (ModelLoadException e) {
                throw new UserException("--calibration: " + e.getMessage());
            }
        }
        try {
            return embedding.options()
                    .postProcessor(embedding.postprocess == null ? null
                            : ServeCommand.loadPostProcessor(Path.of(embedding.postprocess)))
                    .outputType(type)
                    .calibration(ranges)
                    .build();
        } catch (InvalidRequestException e) {
            throw new UserException("calibration".equals(e.param()) ? "--calibration: " + e.getMessage() : e.getMessage());
        }
    }

    /** One input line: its id (echoed) and what to embed. */
    private record Line(int lineNo, JsonNode id, EmbedInput input) {}

    private static Line parse(JsonLineReader.Line line) {
        JsonNode t = line.get("text");
        JsonNode ids = line.get("token_ids");
        if ((t == null) == (ids == null)) {
            throw line.error("give exactly one of \"text\" and \"token_ids\"");
        }
        if (t != null) {
            if (!t.isTextual()) {
                throw line.error("\"text\" must be a string");
            }
            return new Line(line.lineNo(), line.id(), EmbedInput.text(t.asText()));
        }
        if (!ids.isArray()) {
            throw line.error("\"token_ids\" must be an array of integers");
        }
        int[] tokens = new int[ids.size()];
        for (int i = 0; i < tokens.length; i++) {
            JsonNode v = ids.get(i);
            if (!v.isInt()) {
                throw line.error("\"token_ids\" must be an array of integers");
            }
            tokens[i] = v.asInt();
        }
        return new Line(line.lineNo(), line.id(), EmbedInput.tokens(tokens));
    }

    private void write(Embedder embedder, List<Line> chunk, EmbedOptions options, JsonGenerator gen, OutputStream out)
            throws IOException {
        Embeddings result;
        try {
            result = embedder.embed(chunk.stream().map(Line::input).toList(), options);
        } catch (InputTooLongException e) {
            throw new UserException("line " + chunk.get(e.index()).lineNo() + ": " + e.tokens()
                    + " tokens, more than the limit of " + e.limit() + "; shorten it, or give --truncate");
        } catch (InvalidRequestException e) {
            throw new UserException(e.index() >= 0 ? "line " + chunk.get(e.index()).lineNo() + ": input " + e.reason()
                    : e.getMessage());
        } catch (NonFiniteOutputException e) {
            throw UserException.model("line " + chunk.get(e.index()).lineNo() + ": " + e.reason());
        } catch (EmbedException e) {
            throw new UserException(e.getMessage(), ExitCode.FAILURE);
        }
        for (int i = 0; i < chunk.size(); i++) {
            Embeddings.Embedding e = result.data().get(i);
            gen.writeStartObject();
            gen.writeFieldName("id");
            json.writeTree(gen, chunk.get(i).id());
            gen.writeNumberField("tokens", e.tokens());
            gen.writeFieldName("embedding");
            OutputType type = options.outputType();
            if (type == OutputType.FLOAT) {
                gen.writeStartArray();
                for (float x : e.vector()) {
                    gen.writeNumber(x);
                }
                gen.writeEndArray();
            } else if (type.integral()) {
                int[] values = type.integers(e.encoded());
                gen.writeArray(values, 0, values.length);
            } else {
                gen.writeString(Base64.getEncoder().encodeToString(e.encoded()));
            }
            gen.writeEndObject();
            gen.writeRaw('\n');
        }
        gen.flush();
        out.flush();
    }
}
