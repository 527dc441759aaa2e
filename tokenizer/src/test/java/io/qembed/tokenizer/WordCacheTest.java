package io.qembed.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class WordCacheTest {
    @Test
    void findsWordsInsideLargerStringsAndNeverConfusesThem() {
        WordCache cache = new WordCache(2); // tiny: words share slots and evict each other
        String text = "xxhello worldxx";
        cache.put(text, 2, 7, WordCache.hash(text, 2, 7), new int[] {1});
        assertArrayEquals(new int[] {1}, cache.get("hello", 0, 5, "hello".hashCode()));
        assertNull(cache.get("hellO", 0, 5, "hellO".hashCode()));
        assertNull(cache.get("hell", 0, 4, "hell".hashCode()));
        // Same hash, different text: "Aa" and "BB" collide in String.hashCode.
        cache.put("Aa", 0, 2, "Aa".hashCode(), new int[] {2});
        assertNull(cache.get("BB", 0, 2, "BB".hashCode()));
        assertArrayEquals(new int[] {2}, cache.get("Aa", 0, 2, "Aa".hashCode()));
        for (int i = 0; i < 100; i++) {
            String word = "w" + i;
            cache.put(word, 0, word.length(), word.hashCode(), new int[] {i});
        }
        for (int i = 0; i < 100; i++) {
            String word = "w" + i;
            int[] ids = cache.get(word, 0, word.length(), word.hashCode());
            if (ids != null) {
                assertArrayEquals(new int[] {i}, ids); // evicted or right, never another word's ids
            }
        }
        assertThrows(IllegalArgumentException.class, () -> new WordCache(3));
    }

    @Test
    void hashEqualsStringHashCode() {
        String text = "abc 字🦙 def";
        for (int start = 0; start < text.length(); start++) {
            for (int end = start; end <= text.length(); end++) {
                org.junit.jupiter.api.Assertions.assertEquals(text.substring(start, end).hashCode(),
                        WordCache.hash(text, start, end));
            }
        }
    }
}
