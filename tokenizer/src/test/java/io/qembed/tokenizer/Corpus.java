package io.qembed.tokenizer;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A deterministic corpus of several thousand texts that exercise every branch of tokenisation: many
 * scripts, CJK, emoji sequences, combining marks and decomposed text, every kind of whitespace, digits,
 * code, contractions in any case, added-token strings and near misses of them, and very long words.
 * The same seed always gives the same texts.
 */
public final class Corpus {
    private static final long SEED = 20261126L;

    /** Words in many scripts (NFC unless noted). */
    static final String[] WORDS = {
        "the", "The", "THE", "hello", "World", "tokenizer", "embedding", "Beijing", "naïve", "café", "résumé",
        "Straße", "Ærøskøbing", "Łódź", "İstanbul", "ıi", "ǅemal", "ﬁnance", "ﬀ", "Ωmega", "Ⅻ", "µs",
        "αβγ", "Ελληνικά", "καλημέρα", "Ὀδυσσεύς", "русский", "Привет", "ЁЖИК", "українська", "Ђорђе",
        "Հայերեն", "ქართული", "עברית", "שָׁלוֹם", "العربية", "مرحبا", "فارسی", "اردو", "ܣܘܪܝܝܐ",
        "हिन्दी", "नमस्ते", "क्षत्रिय", "বাংলা", "ਪੰਜਾਬੀ", "ગુજરાતી", "ଓଡ଼ିଆ", "தமிழ்", "తెలుగు", "ಕನ್ನಡ",
        "മലയാളം", "සිංහල", "ไทย", "ภาษาไทย", "ລາວ", "ខ្មែរ", "မြန်မာ", "བོད་ཡིག", "ᠮᠣᠩᠭᠣᠯ", "አማርኛ",
        "ᏣᎳᎩ", "ᐃᓄᒃᑎᑐᑦ", "ᚠᚢᚦ", "𐌰𐌱𐌲", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "𝟘𝟙𝟚", "中文", "汉字", "漢字", "数据库", "机器学习",
        "日本語", "ひらがな", "カタカナ", "ｶﾀｶﾅ", "東京都", "한국어", "안녕하세요", "ᄒᆞᆫ", "𠀀𠀁", "𪚥",
        "Tiếng Việt", "Nguyễn", "ọ̀", "ą̊", "x̧̌", "Zalgơ̸̢̖͓̰̐̀", "ç", "ñ", "ő", "ů",
    };

    static final String[] EMOJI = {
        "🦙", "🚀", "✅", "❤️", "❤", "👍", "👍🏻", "👍🏽", "👍🏿", "👩‍💻", "👨‍👩‍👧‍👦", "🧑🏾‍🚀", "🏳️‍🌈", "🏴‍☠️",
        "😶‍🌫️", "🇫🇷", "🇯🇵🇺🇸", "1️⃣", "#️⃣", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "☺︎", "☺️", "🫠", "👁️‍🗨️", "💁‍♀️", "🤝🏼",
        "©", "®", "™", "↔️", "🀄", "🂡", "🎉🎉🎉", "😀😃😄",
    };

    /** Every White_Space character, and look-alikes that are not whitespace. */
    static final String[] SPACES = {
        " ", "\t", "\n", "\u000B", "\f", "\r", "\r\n", "\u0085", "\u00A0", "\u1680", "\u2000", "\u2001",
        "\u2002", "\u2003", "\u2004", "\u2005", "\u2006", "\u2007", "\u2008", "\u2009", "\u200A", "\u2028",
        "\u2029", "\u202F", "\u205F", "\u3000", "\u180E", "\u200B", "\u200C", "\u200D", "\u2060", "\uFEFF",
        "\u001C", "\u001D", "\u001E", "\u001F", "  ", "   ", "\n\n", "\n \n", " \n", "\t\t", " \t ", "\r\r\n",
    };

    static final String[] NUMBERS = {
        "0", "7", "42", "1234", "3.14159", "1,000,000", "2026-11-26", "12:30", "0x1F", "1e-9", "-17", "+3",
        "٠١٢٣٤", "۱۲۳", "०१२३", "১২৩", "１２３", "²³", "½", "¾", "Ⅳ", "ⅻ", "①②", "𝟏𝟐", "〇", "十二",
        "99999999999999999999", "3..3", "3...3", "v1.2.3", "#1", "1st", "2nd", "10%", "$5", "€10", "¥100",
    };

    static final String[] PUNCTUATION = {
        ".", ",", "!", "?", ";", ":", "...", "—", "–", "-", "(", ")", "[", "]", "{", "}", "<", ">", "\"", "'",
        "’", "‘", "“", "”", "«", "»", "„", "、", "。", "，", "！", "？", "「", "」", "『", "』", "…", "·", "•",
        "@", "#", "$", "%", "^", "&", "*", "_", "=", "+", "|", "\\", "/", "~", "`", "§", "¶", "†", "‰", "′",
        "!!!", "?!", "--", "==>", "<=", "!=", "::", "->", "=>", "/*", "*/", "//", "<!--", "-->", "```",
    };

    static final String[] CONTRACTIONS = {
        "'s", "'S", "'t", "'T", "'re", "'RE", "'Re", "'rE", "'ve", "'VE", "'Ve", "'m", "'M", "'ll", "'LL",
        "'Ll", "'lL", "'d", "'D", "'ſ", "'x", "'", "''", "'''s", "’s", "’re", "'reD", "'sa", "'dd",
        "'l", "'r", "'v", "'e", "'1", "' s", "'\ns",
    };

    static final String[] ADDED_TOKENS = {
        "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
        "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>",
        "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>", "<tool_call>", "</tool_call>",
        "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>", "<|repo_name|>",
        "<|file_sep|>", "<tool_response>", "</tool_response>", "<think>", "</think>",
    };

    static final String[] CODE = {
        "def fibonacci(n: int) -> int:\n    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n",
        "public static void main(String[] args) {\n\tSystem.out.println(\"Hello, world!\");\n}\n",
        "#include <stdio.h>\nint main(void) { printf(\"%d\\n\", 42); return 0; }\n",
        "SELECT id, name FROM users WHERE age >= 18 AND name LIKE 'A%' ORDER BY id DESC;",
        "const f = (x) => x ** 2; // square\nlet arr = [1, 2, 3].map(f);",
        "<div class=\"main\"><p>Hello &amp; welcome</p></div>",
        "{\"key\": \"value\", \"n\": [1, 2.5, null, true], \"nested\": {\"a\": \"b\"}}",
        "fn main() {\n    let v: Vec<u32> = (0..10).collect();\n    println!(\"{:?}\", v);\n}\n",
        "    indented\n\t\ttabbed\n  \t mixed\n",
        "$ ls -la | grep '.java' && echo \"done\" > /dev/null 2>&1",
        "x=1;y=2;z=x+y\r\nprint(z)\r\n",
        "if (a&&b||!c) { return a<<2 >>> 1; }",
        "# Title\n\n- item 1\n- item 2\n\n```python\nprint('hi')\n```\n",
    };

    private Corpus() {}

    /** The whole corpus. */
    public static List<String> texts() {
        Random random = new Random(SEED);
        List<String> texts = new ArrayList<>();
        // Every building block alone, and framed by spaces and newlines.
        for (String[] list : new String[][] {WORDS, EMOJI, SPACES, NUMBERS, PUNCTUATION, CONTRACTIONS, ADDED_TOKENS, CODE}) {
            for (String s : list) {
                texts.add(s);
                texts.add(" " + s);
                texts.add(s + " ");
                texts.add("\n" + s + "\n");
                texts.add("a" + s + "b");
            }
        }
        // Decomposed (NFD, NFKD) versions of words and of Hangul.
        for (String word : WORDS) {
            texts.add(Normalizer.normalize(word, Normalizer.Form.NFD));
            texts.add("x " + Normalizer.normalize(word, Normalizer.Form.NFKD) + " y");
        }
        texts.add("\u2126 \u212B \u212A \u1E9B\u0323 \u0041\u030A \u0061\u0308\u0301 \u00E9\u0301");
        // Contractions after letters, in every case.
        for (String c : CONTRACTIONS) {
            texts.add("it" + c + " fine");
            texts.add("IT" + c.toUpperCase() + " FINE");
            texts.add("x" + c + c + "y");
        }
        // Added tokens in context and near misses of them.
        for (String token : ADDED_TOKENS) {
            texts.add("before" + token + "after");
            texts.add("before " + token + " after");
            texts.add(token + token);
            texts.add(" \n" + token + "\n\n");
            texts.add(token.substring(0, token.length() - 1));
            texts.add(token.substring(1));
            texts.add(token.replace("|", "| "));
            texts.add(token.toUpperCase());
            texts.add(token.substring(0, token.length() / 2) + token);
            texts.add("<" + token + ">");
            texts.add(token.replace(">", " >"));
        }
        // Sentences from random blocks.
        for (int i = 0; i < 2500; i++) {
            texts.add(sentence(random, 1 + random.nextInt(25)));
        }
        // Random strings over small alphabets that stress the regex's alternatives.
        String[] alphabets = {
            "aA's'S'tRE'ld 1.\n\r\t", "a \n\r\t\u00A0\u3000", " '!.,;xX9\n", "ab <|>imend_start", "e\u0301\u0308 a\u0327",
            "字 a1\n。、", "ſ'sS' ", "a\u2028\u2029\u0085\u000B\f ",
        };
        for (int i = 0; i < 1500; i++) {
            String alphabet = alphabets[i % alphabets.length];
            int length = 1 + random.nextInt(40);
            StringBuilder sb = new StringBuilder();
            int[] cps = alphabet.codePoints().toArray();
            for (int k = 0; k < length; k++) {
                sb.appendCodePoint(cps[random.nextInt(cps.length)]);
            }
            texts.add(sb.toString());
        }
        // Random code points from many blocks.
        for (int i = 0; i < 800; i++) {
            texts.add(randomCodePoints(random, 1 + random.nextInt(30)));
        }
        // Long words and long runs.
        texts.add("a".repeat(1000));
        texts.add("ab".repeat(700));
        texts.add(" ".repeat(1000) + "x");
        texts.add("\n".repeat(500));
        texts.add("!".repeat(777));
        texts.add("9".repeat(600));
        texts.add("字".repeat(600));
        texts.add("🦙".repeat(300));
        texts.add("é".repeat(400) + Normalizer.normalize("é", Normalizer.Form.NFD).repeat(100));
        texts.add(base64(random, 3000));
        texts.add(base64(random, 257));
        texts.add("Pneumonoultramicroscopicsilicovolcanoconiosis".repeat(20));
        texts.add("https://example.com/" + "a1b2c3".repeat(100) + "?q=" + "x".repeat(200));
        texts.add(randomLetters(random, 5000));
        for (int i = 0; i < 20; i++) {
            texts.add(randomLetters(random, 100 + random.nextInt(900)));
            texts.add(base64(random, 100 + random.nextInt(900)));
        }
        return texts;
    }

    private static String pick(Random random, String[] list) {
        return list[random.nextInt(list.length)];
    }

    private static String sentence(Random random, int parts) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < parts; i++) {
            int kind = random.nextInt(100);
            String part;
            if (kind < 40) {
                part = pick(random, WORDS);
            } else if (kind < 50) {
                part = pick(random, PUNCTUATION);
            } else if (kind < 58) {
                part = pick(random, NUMBERS);
            } else if (kind < 64) {
                part = pick(random, EMOJI);
            } else if (kind < 72) {
                part = pick(random, CONTRACTIONS);
            } else if (kind < 75) {
                part = pick(random, ADDED_TOKENS);
            } else if (kind < 77) {
                part = pick(random, CODE);
            } else if (kind < 80) {
                part = Normalizer.normalize(pick(random, WORDS), Normalizer.Form.NFD);
            } else {
                part = pick(random, SPACES);
            }
            sb.append(part);
            if (random.nextInt(3) > 0) {
                sb.append(random.nextInt(10) == 0 ? pick(random, SPACES) : " ");
            }
        }
        return sb.toString();
    }

    /** Code point ranges of long-established blocks (assigned before Unicode 12). */
    private static final int[][] BLOCKS = {
        {0x20, 0x7E}, {0xA0, 0x24F}, {0x300, 0x36F}, {0x370, 0x3FF}, {0x400, 0x4FF}, {0x531, 0x587},
        {0x5D0, 0x5EA}, {0x600, 0x6FF}, {0x900, 0x97F}, {0x980, 0x9FF}, {0xB80, 0xBFF}, {0xE00, 0xE5B},
        {0x10A0, 0x10FF}, {0x1100, 0x11FF}, {0x1E00, 0x1EFF}, {0x2000, 0x206F}, {0x20A0, 0x20BF},
        {0x2100, 0x218B}, {0x2190, 0x23FF}, {0x2460, 0x24FF}, {0x2500, 0x27BF}, {0x3000, 0x303F},
        {0x3041, 0x3096}, {0x30A0, 0x30FF}, {0x4E00, 0x9FA5}, {0xAC00, 0xD7A3}, {0xF900, 0xFA2D},
        {0xFB00, 0xFB4F}, {0xFE30, 0xFE4F}, {0xFF00, 0xFFEF}, {0x1D400, 0x1D7FF}, {0x1F300, 0x1F64F},
        {0x1F680, 0x1F6C5}, {0x20000, 0x2A6D6}, {0x10330, 0x1034A},
    };

    private static String randomCodePoints(Random random, int count) {
        StringBuilder sb = new StringBuilder();
        while (count > 0) {
            int[] block = BLOCKS[random.nextInt(BLOCKS.length)];
            int cp = block[0] + random.nextInt(block[1] - block[0] + 1);
            if (Character.isDefined(cp) && Character.getType(cp) != Character.PRIVATE_USE
                    && Character.getType(cp) != Character.SURROGATE) {
                sb.appendCodePoint(cp);
                count--;
            }
        }
        return sb.toString();
    }

    private static String randomLetters(Random random, int count) {
        StringBuilder sb = new StringBuilder(count);
        for (int i = 0; i < count; i++) {
            sb.append((char) ('a' + random.nextInt(26)));
        }
        return sb.toString();
    }

    private static String base64(Random random, int count) {
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        StringBuilder sb = new StringBuilder(count);
        for (int i = 0; i < count; i++) {
            sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        return sb.toString();
    }
}
