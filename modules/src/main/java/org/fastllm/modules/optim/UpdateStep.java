package org.fastllm.modules.optim;

import org.bytedeco.pytorch.Tensor;

/**
 * The settings of one group's update at one step: its rate (base rate times {@code lr_scale}), its decoupled weight
 * decay (0 for a group without decay), the betas and epsilon, the step counted from 1, and the gradient scale of
 * clipping ({@code gradScale}, a one-element float tensor on the device, or null for none).
 *
 * <pre>{@code
 * // given ParameterGroup group
 * group.update(new UpdateStep(3e-4 * 0.5, 0.1, 0.9, 0.95, 1e-8, 12, null));   // step 12, nothing clipped
 * }</pre>
 */
record UpdateStep(double lr, double weightDecay, double beta1, double beta2, double epsilon, long step,
    Tensor gradScale) {}
