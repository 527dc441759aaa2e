package io.qembed.backend.cpu;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * Drops the pages of a read-only file mapping from this process's resident set ({@code madvise
 * MADV_DONTNEED}); the data stays in the page cache and is mapped again on the next read.
 *
 * <p>Why: the embedding table is read a few rows at a time, but the kernel maps whole neighbourhoods
 * of pages around every row it faults in, so a batch of random token ids would keep most of the
 * 311 MB table (0.6B) resident. Releasing it after each gather keeps the resident set near the
 * weights actually streamed. Only read-only mapped segments are touched: on anonymous memory the same
 * call would discard data. Where {@code madvise} is not available this does nothing.
 */
final class MappedPages {
    private static final int MADV_DONTNEED = 4; // Linux
    private static final long PAGE = 4096;
    private static final Optional<MethodHandle> MADVISE = lookup();

    private MappedPages() {}

    private static Optional<MethodHandle> lookup() {
        if (!System.getProperty("os.name", "").startsWith("Linux")) {
            return Optional.empty();
        }
        Linker linker = Linker.nativeLinker();
        return linker.defaultLookup().find("madvise").map(address -> linker.downcallHandle(address,
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                        ValueLayout.JAVA_INT)));
    }

    /** Releases the whole pages inside {@code segment} if it is a read-only file mapping. */
    static void release(MemorySegment segment) {
        if (MADVISE.isEmpty() || !segment.isMapped() || !segment.isReadOnly()) {
            return;
        }
        long start = (segment.address() + PAGE - 1) & -PAGE;
        long end = (segment.address() + segment.byteSize()) & -PAGE;
        if (end <= start) {
            return;
        }
        try {
            int unused = (int) MADVISE.get().invokeExact(MemorySegment.ofAddress(start), end - start, MADV_DONTNEED);
        } catch (Throwable e) {
            // Only the resident-set size is at stake; the data is unaffected either way.
        }
    }
}
