package io.qembed.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.qembed.io.Checkpoint;
import io.qembed.testing.TestFixtures;
import org.junit.jupiter.api.Test;

/** Loads the fixture's weights against its config.json. */
class Qwen3WeightsFixtureTest {

    @Test
    void fixtureConfigIsTheTinyShape() {
        assertEquals(Qwen3Config.shape("tiny"), Qwen3Config.load(TestFixtures.tinyModel().resolve("config.json")));
    }

    @Test
    void loadsEveryWeightOfTheFixture() {
        Qwen3Config config = Qwen3Config.load(TestFixtures.tinyModel().resolve("config.json"));
        try (Checkpoint checkpoint = Checkpoint.open(TestFixtures.tinyModel())) {
            Qwen3Weights weights = Qwen3Weights.load(checkpoint, config);
            assertEquals(2, weights.layers().size());
            assertSame(checkpoint.get("embed_tokens.weight"), weights.embedTokens());
            assertSame(checkpoint.get("norm.weight"), weights.norm());
            var layer1 = weights.layers().get(1);
            assertSame(checkpoint.get("layers.1.self_attn.q_proj.weight"), layer1.qProj());
            assertSame(checkpoint.get("layers.1.self_attn.k_proj.weight"), layer1.kProj());
            assertSame(checkpoint.get("layers.1.self_attn.v_proj.weight"), layer1.vProj());
            assertSame(checkpoint.get("layers.1.self_attn.o_proj.weight"), layer1.oProj());
            assertSame(checkpoint.get("layers.1.self_attn.q_norm.weight"), layer1.qNorm());
            assertSame(checkpoint.get("layers.1.self_attn.k_norm.weight"), layer1.kNorm());
            assertSame(checkpoint.get("layers.1.input_layernorm.weight"), layer1.inputLayernorm());
            assertSame(checkpoint.get("layers.1.post_attention_layernorm.weight"), layer1.postAttentionLayernorm());
            assertSame(checkpoint.get("layers.1.mlp.gate_proj.weight"), layer1.gateProj());
            assertSame(checkpoint.get("layers.1.mlp.up_proj.weight"), layer1.upProj());
            assertSame(checkpoint.get("layers.1.mlp.down_proj.weight"), layer1.downProj());
            assertArrayEquals(new long[] {64, 128}, layer1.downProj().shape());
        }
    }
}
