package io.qembed.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.post.TransformMethod;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class EvalConfigTest {

    @Test
    void parsesTheDocumentedExample() {
        EvalConfig c = EvalConfig.parse("dims=256,instruct=on,post=whiten:128");
        assertEquals(256, c.dimensions());
        assertEquals(EvalConfig.DEFAULT_TASK, c.instruction());
        assertEquals(new EvalConfig.Post.Fit(TransformMethod.WHITEN, 128), c.post());
        assertEquals("dims=256,instruct=on,post=whiten:128", c.label());
    }

    @Test
    void emptySpecMeansFullSizeWithInstructionAndNoPostProcessing() {
        EvalConfig c = EvalConfig.parse("");
        assertEquals(0, c.dimensions());
        assertEquals(EvalConfig.DEFAULT_TASK, c.instruction());
        assertEquals(new EvalConfig.Post.None(), c.post());
        assertEquals("default", c.label());
    }

    @Test
    void instructionOffCustomAndQuotedWithCommas() {
        assertNull(EvalConfig.parse("instruct=off").instruction());
        assertEquals("Find the answer", EvalConfig.parse("instruct=Find the answer").instruction());
        EvalConfig quoted = EvalConfig.parse("instruct=\"Given a question, find its answer\",dims=full");
        assertEquals("Given a question, find its answer", quoted.instruction());
        assertEquals(0, quoted.dimensions());
        assertTrue(quoted.label().startsWith("instruct=\"Given a question"), quoted.label());
    }

    @Test
    void postVariantsAndName() {
        assertEquals(new EvalConfig.Post.Fit(TransformMethod.PCA, 0), EvalConfig.parse("post=pca").post());
        assertEquals(new EvalConfig.Post.Fit(TransformMethod.WHITEN, 0), EvalConfig.parse("post=WHITEN").post());
        assertEquals(new EvalConfig.Post.None(), EvalConfig.parse("post=none").post());
        assertEquals(
                new EvalConfig.Post.FromFile(Path.of("out/w.safetensors")),
                EvalConfig.parse("post=file:out/w.safetensors").post());
        assertEquals("mine", EvalConfig.parse("name=mine,post=pca:16").label());
    }

    @Test
    void mistakesAreNamed() {
        assertMessage("unknown key 'dim'", "dim=5");
        assertMessage("is not key=value", "whiten");
        assertMessage("dims must be a number", "dims=big");
        assertMessage("dims must be positive", "dims=0");
        assertMessage("post must be none, pca[:K], whiten[:K] or file:PATH", "post=zca");
        assertMessage("needs a number", "post=pca:many");
        assertMessage("unclosed quote", "instruct=\"open");
        assertMessage("needs a path", "post=file:");
    }

    static void assertMessage(String expected, String spec) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> EvalConfig.parse(spec));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
