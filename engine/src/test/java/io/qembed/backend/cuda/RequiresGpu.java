package io.qembed.backend.cuda;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Runs a test class only where the CUDA backend can run; elsewhere every test is reported as skipped
 * with the reason ({@code CudaBackend.isAvailable()}), e.g. the libraries that were not found.
 */
final class RequiresGpu implements ExecutionCondition {
    private static CudaBackend.Availability availability;

    private static synchronized CudaBackend.Availability availability() {
        if (availability == null) {
            availability = CudaBackend.isAvailable();
        }
        return availability;
    }

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        CudaBackend.Availability a = availability();
        return a.available()
                ? ConditionEvaluationResult.enabled("GPU: " + a.reason())
                : ConditionEvaluationResult.disabled("GPU test skipped, CUDA backend unavailable: " + a.reason());
    }
}
