package io.qembed.cuda;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Reads the function symbols of a cubin (a 64-bit little-endian ELF file), for tests that need no GPU. */
public final class Cubins {
    private static final int SHT_SYMTAB = 2;
    private static final int STT_FUNC = 2;

    private Cubins() {}

    /** Whether the cubin's symbol table defines a function named {@code name}. */
    public static boolean containsSymbol(byte[] cubin, String name) {
        return functionSymbols(cubin).contains(name);
    }

    /** The names of the function symbols of the cubin's symbol table. */
    public static List<String> functionSymbols(byte[] cubin) {
        ByteBuffer elf = ByteBuffer.wrap(cubin).order(ByteOrder.LITTLE_ENDIAN);
        if (cubin.length < 64 || elf.getInt(0) != 0x464c457f || cubin[4] != 2 || cubin[5] != 1) {
            throw new IllegalArgumentException("not a 64-bit little-endian ELF file");
        }
        long sectionTable = elf.getLong(0x28);
        int sectionSize = Short.toUnsignedInt(elf.getShort(0x3a));
        int sections = Short.toUnsignedInt(elf.getShort(0x3c));
        List<String> names = new ArrayList<>();
        for (int s = 0; s < sections; s++) {
            int header = Math.toIntExact(sectionTable + (long) s * sectionSize);
            if (elf.getInt(header + 4) != SHT_SYMTAB) {
                continue;
            }
            int symbols = Math.toIntExact(elf.getLong(header + 0x18));
            int symbolsSize = Math.toIntExact(elf.getLong(header + 0x20));
            int entrySize = Math.toIntExact(elf.getLong(header + 0x38));
            int linked = Math.toIntExact(sectionTable + (long) elf.getInt(header + 0x28) * sectionSize);
            int strings = Math.toIntExact(elf.getLong(linked + 0x18));
            for (int at = symbols; at < symbols + symbolsSize; at += entrySize) {
                if ((elf.get(at + 4) & 0xf) == STT_FUNC) {
                    names.add(cString(cubin, strings + elf.getInt(at)));
                }
            }
        }
        return names;
    }

    private static String cString(byte[] bytes, int start) {
        int end = start;
        while (bytes[end] != 0) {
            end++;
        }
        return new String(bytes, start, end - start, StandardCharsets.US_ASCII);
    }
}
