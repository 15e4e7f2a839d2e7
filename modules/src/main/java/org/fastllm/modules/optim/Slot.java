package org.fastllm.modules.optim;

import org.fastllm.modules.stack.NamedParameter;

/**
 * One optimized tensor: where it lies in its group's flat buffers.
 *
 * <pre>{@code
 * // given NamedParameter parameter
 * new Slot(parameter, 0, parameter.tensor().numel())   // the group's first tensor
 * }</pre>
 */
record Slot(NamedParameter parameter, long offset, long numel) {}
