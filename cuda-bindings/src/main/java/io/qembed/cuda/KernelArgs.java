package io.qembed.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * The arguments of one kernel launch, in the order of the kernel's parameters: device pointers
 * ({@code long}, for {@code T*}), {@code int}, {@code long long} and {@code float}. Built into the {@code void**} array
 * that {@code cuLaunchKernel} reads.
 */
public final class KernelArgs {
    private sealed interface Arg {}

    private record Pointer(long value) implements Arg {}

    private record I32(int value) implements Arg {}

    private record I64(long value) implements Arg {}

    private record F32(float value) implements Arg {}

    private final List<Arg> args = new ArrayList<>();

    public static KernelArgs of() {
        return new KernelArgs();
    }

    /** A device pointer argument. */
    public KernelArgs pointer(long devicePointer) {
        args.add(new Pointer(devicePointer));
        return this;
    }

    /** An {@code int} argument. */
    public KernelArgs i32(int value) {
        args.add(new I32(value));
        return this;
    }

    /** A {@code long long} argument. */
    public KernelArgs i64(long value) {
        args.add(new I64(value));
        return this;
    }

    /** A {@code float} argument. */
    public KernelArgs f32(float value) {
        args.add(new F32(value));
        return this;
    }

    public int size() {
        return args.size();
    }

    /**
     * The argument types in order, as {@code ptr}, {@code i32}, {@code i64} and {@code f32} joined by
     * commas: what a kernel's parameter list must read as.
     */
    public String signature() {
        return String.join(",", args.stream().map(arg -> switch (arg) {
            case Pointer p -> "ptr";
            case I32 v -> "i32";
            case I64 v -> "i64";
            case F32 v -> "f32";
        }).toList());
    }

    /** The {@code void* kernelParams[]} array, each entry pointing at its value, allocated in {@code arena}. */
    MemorySegment toNative(Arena arena) {
        MemorySegment pointers = arena.allocate(ValueLayout.ADDRESS, Math.max(1, args.size()));
        for (int i = 0; i < args.size(); i++) {
            MemorySegment value = switch (args.get(i)) {
                case Pointer p -> arena.allocateFrom(ValueLayout.JAVA_LONG, p.value());
                case I32 v -> arena.allocateFrom(ValueLayout.JAVA_INT, v.value());
                case I64 v -> arena.allocateFrom(ValueLayout.JAVA_LONG, v.value());
                case F32 v -> arena.allocateFrom(ValueLayout.JAVA_FLOAT, v.value());
            };
            pointers.setAtIndex(ValueLayout.ADDRESS, i, value);
        }
        return pointers;
    }
}
