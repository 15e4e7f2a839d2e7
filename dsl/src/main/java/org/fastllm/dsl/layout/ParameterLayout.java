package org.fastllm.dsl.layout;

import java.util.List;
import org.fastllm.dsl.config.BlockConfig;

/**
 * The parameter tensors of one block, computed from its resolved config alone (no tensor is allocated).
 *
 * <pre>{@code
 * // given ParameterLayout<TransformerBlockConfig> layout, TransformerBlockConfig resolvedBob
 * layout.tensors(resolvedBob)  // [norm_1.weight [H], mixer.query.weight [..], ...]
 * }</pre>
 *
 * <p><b>The built module of the block must hold exactly these tensors, by name and shape.</b> LoRA adapters are
 * not listed here; {@code count.AdapterTensors} derives them from the linear weights named by
 * {@link TensorSpec#linear()}.
 */
@FunctionalInterface
public interface ParameterLayout<C extends BlockConfig> {
  List<TensorSpec> tensors(C resolvedConfig);
}
