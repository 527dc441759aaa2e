package io.qembed.cli.options;

import io.qembed.tokenizer.TruncationSide;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/** {@code --truncation-direction}, declared once for the commands that embed ({@link EmbeddingOptions}) and rerank. */
public class TruncationDirectionOption {
    @Option(
            names = "--truncation-direction",
            defaultValue = "right",
            paramLabel = "right|left",
            converter = TruncationConverter.class,
            description = "Which end truncation cuts: right keeps the beginning, left the end (default: ${DEFAULT-VALUE}).")
    public TruncationSide direction;

    /** Parses {@code right|left} in any case. */
    public static final class TruncationConverter implements ITypeConverter<TruncationSide> {
        @Override
        public TruncationSide convert(String value) {
            try {
                return TruncationSide.parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }
}
