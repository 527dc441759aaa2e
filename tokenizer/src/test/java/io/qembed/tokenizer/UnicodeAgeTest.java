package io.qembed.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.ibm.icu.text.UnicodeSet;
import org.junit.jupiter.api.Test;

class UnicodeAgeTest {
    @Test
    void assignedCodePointsAreIcuAgeSet() {
        UnicodeSet assigned = new UnicodeSet("[:Age=" + UnicodeAge.VERSION + ":]");
        for (int c = 0; c <= Character.MAX_CODE_POINT; c++) {
            if (UnicodeAge.assigned(c) != assigned.contains(c)) {
                assertEquals(assigned.contains(c), UnicodeAge.assigned(c), String.format("U+%04X", c));
            }
        }
    }

    @Test
    void nextFindsRunsOfAssignedAndUnassignedCodePoints() {
        // U+0378 was never assigned, U+1DFA arrived in Unicode 14, U+1E900 (Adlam) in 9.0.
        String text = "a\u0378\u1DFA\uD83A\uDD00b";
        assertEquals(1, UnicodeAge.next(text, 0, false));
        assertEquals(3, UnicodeAge.next(text, 1, true));
        assertEquals(text.length(), UnicodeAge.next(text, 3, false));
        assertEquals(0, UnicodeAge.next("", 0, true));
    }
}
