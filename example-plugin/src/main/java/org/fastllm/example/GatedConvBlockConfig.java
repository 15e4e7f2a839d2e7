package org.fastllm.example;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import java.util.List;
import org.fastllm.dsl.Block;
import org.fastllm.dsl.Doc;
import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.dsl.config.CommonBlockKeys;
import org.fastllm.dsl.config.ModelDefaults;

/**
 * A gated short-convolution block (H3 / Hyena style): {@code in_proj} widens the input to a value and a gate,
 * a depthwise convolution of {@code kernel_size} taps mixes the value along the sequence, the gate multiplies it,
 * and {@code out_proj} returns to the residual width; then the MLP.
 *
 * <pre>{@code
 * erin: {kind: gated_conv, kernel_size: 4, expansion: 2}
 * finn: {kind: gated_conv, kernel_size: 7, causal: false}
 * }</pre>
 *
 * <p>Shapes, with {@code E = expansion x hidden_size}: in_proj {@code [2E, H]}, conv {@code [E, 1, kernel_size]}
 * with a bias {@code [E]}, out_proj {@code [H, E]}. {@code causal: true} (the default) pads on the left only, so
 * no position sees a later one; {@code causal: false} centers the kernel, which needs an odd {@code kernel_size}.
 * Linear layers carry biases unless {@code add_linear_biases: false}. The keys every block has ({@code lr_scale},
 * {@code lora}, ...) are in {@code common}, with their bounds and defaults; this record declares only its own.
 */
@Doc(rules = {"kernel_size is odd when causal is false (a centered kernel takes as many taps from each side)"})
@Block(kind = "gated_conv", description = "a gated depthwise short convolution (H3/Hyena style) and an MLP")
@ValidGatedConv
public record GatedConvBlockConfig(
    CommonBlockKeys common,
    @Doc("taps of the depthwise convolution")
    @Min(value = 1, message = "must be at least 1") @Max(value = 1024, message = "must be at most 1024") Integer kernelSize,
    @Doc("inner width E as a multiple of hidden_size")
    @Min(value = 1, message = "must be at least 1") Integer expansion,
    @Doc("pad on the left only, so no position sees a later one; false centers the kernel")
    Boolean causal)
    implements BlockConfig {

  public static final int DEFAULT_KERNEL_SIZE = 4;
  public static final int DEFAULT_EXPANSION = 2;
  /** Linear layers carry biases; LoRA adapts the two projections. */
  private static final CommonBlockKeys.KindDefaults KIND_DEFAULTS =
      new CommonBlockKeys.KindDefaults(true, List.of("in_proj", "out_proj"));

  /** A block with every key absent, to be resolved by {@link #withDefaults}. */
  public static GatedConvBlockConfig empty() {
    return new GatedConvBlockConfig(CommonBlockKeys.NONE, null, null, null);
  }

  @Override
  public GatedConvBlockConfig withDefaults(ModelDefaults model) {
    return new GatedConvBlockConfig(
        common.withDefaults(model, KIND_DEFAULTS),
        kernelSize != null ? kernelSize : DEFAULT_KERNEL_SIZE,
        expansion != null ? expansion : DEFAULT_EXPANSION,
        causal == null || causal);
  }
}
