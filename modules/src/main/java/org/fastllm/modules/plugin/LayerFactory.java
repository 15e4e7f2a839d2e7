package org.fastllm.modules.plugin;

import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.modules.layer.LayerContext;
import org.fastllm.modules.layer.SequenceLayer;

/**
 * Builds the mixer of one block kind; the stack wraps it in the pre-norm block with the common MLP.
 *
 * <pre>{@code
 * LayerFactory transformer = (block, context) -> Attention.of((TransformerBlockConfig) block, context);
 * }</pre>
 *
 * <p><b>The mixer's parameters must be exactly the kind's {@code mixer.*} tensors of its {@code ParameterLayout},
 * named without the {@code mixer.} prefix.</b> {@code context} is the model's: a mixer with hand-written kernels
 * attaches their backward to {@code context.tape()} and builds its norms and scans with it.
 */
@FunctionalInterface
public interface LayerFactory {
  SequenceLayer mixer(BlockConfig resolvedBlock, LayerContext context);
}
