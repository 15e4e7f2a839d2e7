package org.fastllm.modules.train;

/**
 * What one optimizer step did, for progress display and {@code metrics.jsonl}.
 *
 * @param step the step just finished, counted from 1
 * @param validationLoss the held-out loss when it was evaluated at this step, else null
 * @param secondsLeft the estimated time to the last step, from the average step time of this process
 * @param devicePeakBytes the most GPU memory held in tensors during the step, null when training on the CPU
 */
public record StepReport(int step, int totalSteps, double loss, double learningRate, double gradNorm,
    double tokensPerSecond, Double validationLoss, double elapsedSeconds, double secondsLeft, long tokens,
    Long devicePeakBytes) {}
