package io.qembed.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.qembed.api.EmbedInput;
import io.qembed.api.EmbedOptions;
import io.qembed.api.Embedder;
import io.qembed.api.EngineConfig;
import io.qembed.api.Embeddings;
import io.qembed.testing.Reference;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** End to end on the CPU backend: every reference case, from text and from ids, alone and packed. */
class ReferenceVectorsTest {
    static Embedder embedder;
    static List<Reference.Case> cases;

    @BeforeAll
    static void open() {
        embedder = Embedder.open(Reference.tinyModel(), EngineConfig.defaults().withBackend(EngineConfig.Backend.CPU).withThreads(2));
        cases = Reference.cases();
    }

    @AfterAll
    static void close() {
        embedder.close();
    }

    @Test
    void tokenizesLikeTheReference() {
        for (Reference.Case c : cases) {
            int[] ids = embedder.tokenize(List.of(EmbedInput.text(c.text())), EmbedOptions.defaults()).getFirst().ids();
            assertArrayEquals(c.tokenIds(), ids, c.id());
        }
    }

    @Test
    void everyCaseFromTextOneByOne() {
        for (Reference.Case c : cases) {
            Embeddings e = embedder.embed(List.of(EmbedInput.text(c.text())), EmbedOptions.defaults());
            assertEquals(c.tokenIds().length, e.data().getFirst().tokens(), c.id());
            Reference.assertClose(c.id() + " (text)", c.embedding(), e.data().getFirst().vector());
        }
    }

    @Test
    void everyCaseFromTokenIdsOneByOne() {
        for (Reference.Case c : cases) {
            float[] v = embedder.embed(List.of(EmbedInput.tokens(c.tokenIds())), EmbedOptions.defaults())
                    .data().getFirst().vector();
            Reference.assertClose(c.id() + " (ids)", c.embedding(), v);
        }
    }

    @Test
    void allCasesInOnePackedBatch() {
        List<EmbedInput> texts = cases.stream().map(c -> EmbedInput.text(c.text())).toList();
        List<EmbedInput> ids = cases.stream().map(c -> EmbedInput.tokens(c.tokenIds())).toList();
        for (List<EmbedInput> inputs : List.of(texts, ids)) {
            Embeddings all = embedder.embed(inputs, EmbedOptions.defaults());
            int total = 0;
            for (int i = 0; i < cases.size(); i++) {
                Reference.assertClose(cases.get(i).id() + " (batched)", cases.get(i).embedding(),
                        all.data().get(i).vector());
                total += cases.get(i).tokenIds().length;
            }
            assertEquals(total, all.promptTokens());
        }
    }
}
