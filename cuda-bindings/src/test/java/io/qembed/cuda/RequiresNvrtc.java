package io.qembed.cuda;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Runs a test class only where the NVRTC library loads (no driver or GPU needed); elsewhere its tests
 * are reported as skipped with the reason.
 */
public final class RequiresNvrtc implements ExecutionCondition {
    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        try {
            return ConditionEvaluationResult.enabled("NVRTC: " + CudaLibraries.loadCompiler());
        } catch (CudaUnavailableException e) {
            return ConditionEvaluationResult.disabled("NVRTC test skipped: " + e.getMessage());
        }
    }
}
