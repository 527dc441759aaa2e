package io.qembed.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qembed.api.EmbedInput;
import io.qembed.api.EmbedOptions;
import io.qembed.api.Embedder;
import io.qembed.api.Embeddings;
import io.qembed.api.EngineConfig;
import io.qembed.api.ModelLoadException;
import io.qembed.api.NonFiniteOutputException;
import io.qembed.cli.CliRun;
import io.qembed.server.EmbeddingServer;
import io.qembed.server.ServerConfig;
import io.qembed.testing.TestFixtures;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A checkpoint with NaN or infinity in a weight: no vector with a non-finite value ever leaves the engine,
 * the warm-up refuses a model whose every output is broken, {@code embed} and {@code serve} say what
 * happened, and {@code verify} names the tensor.
 */
class NonFiniteWeightsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int END = 151643;
    /** A token that neither warm-up text uses, so that a broken embedding row of it passes the warm-up. */
    private static final int RARE = 100_000;
    private static final short BF16_NAN = 0x7FC0;
    private static final short BF16_INFINITY = 0x7F80;
    private static final EngineConfig CPU = EngineConfig.defaults().withBackend(EngineConfig.Backend.CPU);

    @TempDir
    Path dir;

    /** A copy of the tiny model (the files the engine reads) with one BF16 value of {@code tensor} set to {@code bits}. */
    private Path brokenModel(String tensor, long element, short bits) throws IOException {
        Path tiny = TestFixtures.tinyModel();
        Path model = Files.createDirectory(dir.resolve("broken-" + tensor + "-" + element));
        for (String file : List.of("config.json", "tokenizer.json", "tokenizer_config.json",
                "config_sentence_transformers.json", "modules.json", "model.safetensors")) {
            Files.copy(tiny.resolve(file), model.resolve(file));
        }
        Path weights = model.resolve("model.safetensors");
        try (FileChannel channel = FileChannel.open(weights, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            channel.read(length, 0);
            int headerBytes = (int) length.flip().getLong();
            ByteBuffer header = ByteBuffer.allocate(headerBytes);
            channel.read(header, 8);
            JsonNode entry = JSON.readTree(header.array()).get(tensor);
            assertEquals("BF16", entry.get("dtype").asText());
            long offset = 8 + headerBytes + entry.get("data_offsets").get(0).asLong() + 2 * element;
            channel.write(ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN).putShort(bits).flip(), offset);
        }
        return model;
    }

    private static EmbedInput rare() {
        return EmbedInput.tokens(new int[] {785, RARE, END});
    }

    @Test
    void aBrokenProjectionFailsTheWarmUpWithAMessageNamingTheModel() throws IOException {
        Path model = brokenModel("layers.1.mlp.down_proj.weight", 100, BF16_NAN);
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> Embedder.open(model, CPU));
        assertTrue(e.getMessage().startsWith(model.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("in the warm-up pass the model produced non-finite values"), e.getMessage());

        Path input = Files.writeString(dir.resolve("in.jsonl"), "{\"text\": \"hello\"}\n");
        CliRun embed = CliRun.run("embed", "--model", model.toString(), "--input", input.toString());
        assertEquals(3, embed.exitCode(), embed.err());
        assertEquals(1, embed.err().strip().lines().count(), embed.err());
        assertTrue(embed.err().contains("non-finite"), embed.err());
        assertEquals("", embed.out());

        CliRun serve = CliRun.run("serve", "--model", model.toString(), "--port", "0", "--backend", "cpu");
        assertEquals(3, serve.exitCode(), serve.err());
        assertTrue(serve.err().contains("non-finite"), serve.err());
    }

    @Test
    void aBrokenEmbeddingRowFailsExactlyTheRequestsThatUseIt() throws Exception {
        Path model = brokenModel("embed_tokens.weight", (long) RARE * 64 + 5, BF16_INFINITY);
        try (Embedder embedder = Embedder.open(model, CPU)) {
            // The warm-up's passes: its text, and sequences of the first few hundred ids.
            String warmUp = "The quick brown fox jumps over the lazy dog.";
            int[] ids = embedder.tokenize(List.of(EmbedInput.text(warmUp)), EmbedOptions.defaults()).getFirst().ids();
            assertFalse(Arrays.stream(ids).anyMatch(id -> id == RARE), "the warm-up uses the broken row");
            NonFiniteOutputException alone = assertThrows(NonFiniteOutputException.class,
                    () -> embedder.embed(List.of(rare()), EmbedOptions.defaults()));
            assertEquals(0, alone.index());

            // in one request with good inputs: the whole request fails, none of its vectors is returned
            NonFiniteOutputException mixed = assertThrows(NonFiniteOutputException.class, () -> embedder.embed(
                    List.of(EmbedInput.text("fine"), rare(), EmbedInput.text("also fine")), EmbedOptions.defaults()));
            assertEquals(1, mixed.index());

            // requests batched with the broken one are unharmed
            for (int round = 0; round < 5; round++) {
                CompletableFuture<Embeddings> bad = embedder.submit(List.of(rare()), EmbedOptions.defaults());
                CompletableFuture<Embeddings> good =
                        embedder.submit(List.of(EmbedInput.text("fine")), EmbedOptions.defaults());
                for (float v : good.join().data().getFirst().vector()) {
                    assertTrue(Float.isFinite(v));
                }
                Throwable failure = bad.handle((r, t) -> t).join();
                assertTrue(failure instanceof NonFiniteOutputException, String.valueOf(failure));
            }
        }

        Path input = Files.writeString(dir.resolve("in.jsonl"),
                "{\"text\": \"fine\"}\n{\"token_ids\": [785, " + RARE + ", " + END + "]}\n");
        CliRun embed = CliRun.run("embed", "--model", model.toString(), "--input", input.toString(),
                "--output", dir.resolve("out.jsonl").toString());
        assertEquals(3, embed.exitCode(), embed.err());
        assertTrue(embed.err().contains("line 2: the model produced non-finite values"), embed.err());
        assertFalse(Files.readString(dir.resolve("out.jsonl")).contains("NaN"));
    }

    @Test
    void theServerAnswers500SayingWhyAndNeverANaN() throws Exception {
        Path model = brokenModel("embed_tokens.weight", (long) RARE * 64, BF16_NAN);
        try (EmbeddingServer server = EmbeddingServer.start(
                ServerConfig.builder().port(0).accessLog(line -> {}).build(), Embedder.open(model, CPU))) {
            HttpResponse<String> r = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/embeddings"))
                            .POST(HttpRequest.BodyPublishers.ofString(
                                    "{\"input\": [[785, " + RARE + ", " + END + "]]}"))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(500, r.statusCode(), r.body());
            JsonNode error = JSON.readTree(r.body()).get("error");
            assertEquals("non_finite_output", error.get("code").asText());
            assertTrue(error.get("message").asText().contains("non-finite values"), r.body());
            assertFalse(r.body().contains("\"NaN\""), r.body());
        }
    }

    @Test
    void verifyNamesTheFirstBrokenTensorAndPassesACleanModel() throws IOException {
        Path model = brokenModel("layers.0.self_attn.k_proj.weight", 64 * 3 + 7, BF16_NAN);
        CliRun broken = CliRun.run("verify", "--model", model.toString());
        assertEquals(3, broken.exitCode(), broken.err());
        assertEquals("qembed verify: " + model.resolve("model.safetensors") + ": tensor"
                        + " 'layers.0.self_attn.k_proj.weight' holds NaN at [3, 7] (1 non-finite value in it); the"
                        + " model would compute wrong vectors (NaN or infinity)",
                broken.err().strip());

        CliRun clean = CliRun.run("verify", "--model", TestFixtures.tinyModel().toString());
        assertEquals(0, clean.exitCode(), clean.err());
        assertTrue(clean.out().contains("24 tensors") && clean.out().contains("every value finite"), clean.out());
        assertTrue(clean.out().contains("randomly initialised"), clean.out());
    }
}
