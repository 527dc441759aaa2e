package io.qembed.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class RerankScoreTest {

    private static RerankScore scored(int index, double logit) {
        return new RerankScore(index, 1 / (1 + Math.exp(-logit)), logit, 10);
    }

    private static List<Integer> indices(List<RerankScore> scores) {
        return scores.stream().map(RerankScore::index).toList();
    }

    @Test
    void ranksByScoreHighestFirst() {
        List<RerankScore> scores = List.of(scored(0, -1), scored(1, 2), scored(2, 0.5));
        assertEquals(List.of(1, 2, 0), indices(RerankScore.best(scores, 0)));
    }

    @Test
    void scoresTheSigmoidRoundsEqualGoByLogit() {
        RerankScore lower = scored(0, 40);
        RerankScore higher = scored(1, 50);
        assertEquals(1.0, lower.score()); // exp(-40) is below half an ulp of 1
        assertEquals(lower.score(), higher.score());
        assertEquals(List.of(1, 0), indices(RerankScore.best(List.of(lower, higher), 0)));

        RerankScore low = scored(2, -800); // both round to 0.0
        RerankScore lowest = scored(3, -900);
        assertEquals(low.score(), lowest.score());
        assertEquals(List.of(2, 3), indices(RerankScore.best(List.of(lowest, low), 0)));
    }

    @Test
    void equalScoresAndLogitsKeepTheDocumentsOrderWhateverTheInputOrder() {
        List<RerankScore> scores = List.of(scored(3, 1), scored(0, 1), scored(2, 5), scored(1, 1));
        assertEquals(List.of(2, 0, 1, 3), indices(RerankScore.best(scores, 0)));
    }

    @Test
    void cutsToTopN() {
        List<RerankScore> scores = List.of(scored(0, 1), scored(1, 3), scored(2, 2));
        assertEquals(List.of(1, 2), indices(RerankScore.best(scores, 2)));
        assertEquals(List.of(1, 2, 0), indices(RerankScore.best(scores, 3)));
        assertEquals(List.of(1, 2, 0), indices(RerankScore.best(scores, 7)));
        assertEquals(List.of(), RerankScore.best(List.of(), 2));
    }
}
