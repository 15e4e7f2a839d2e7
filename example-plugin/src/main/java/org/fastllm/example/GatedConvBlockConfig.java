package org.fastllm.example;

import jakarta.validation.Valid;
import jakarta.validation.constraints.DecimalMax;
import jakarta.validation.constraints.DecimalMin;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import java.util.List;
import org.fastllm.dsl.Block;
import org.fastllm.dsl.Doc;
import org.fastllm.dsl.config.Activation;
import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.dsl.config.CommonDefaults;
import org.fastllm.dsl.config.LoraConfig;
import org.fastllm.dsl.config.ModelDefaults;
import org.fastllm.dsl.config.NormalizationConfig;
import org.fastllm.dsl.config.rules.ValidCommonBlockKeys;

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
 * Linear layers carry biases unless {@code add_linear_biases: false}.
 */
@Doc(rules = {"kernel_size is odd when causal is false (a centered kernel takes as many taps from each side)"})
@Block(kind = "gated_conv", description = "a gated depthwise short convolution (H3/Hyena style) and an MLP")
@ValidGatedConv
@ValidCommonBlockKeys
public record GatedConvBlockConfig(
    Boolean sharedWeights,
    @Min(value = 1, message = "must be at least 1") Integer hiddenSize,
    @Valid NormalizationConfig normalization,
    @Min(value = 0, message = "must be at least 0 (0 leaves the MLP out)") Integer ffnHiddenSize,
    Boolean gated,
    Activation activation,
    @DecimalMin(value = "0.0", message = "must be at least 0 (0 freezes the block)") Double lrScale,
    @DecimalMin(value = "0.0", message = "must be at least 0") @DecimalMax(value = "1.0", inclusive = false, message = "must be below 1") Double dropout,
    @Valid LoraConfig lora,
    Boolean addLinearBiases,
    @Doc("taps of the depthwise convolution")
    @Min(value = 1, message = "must be at least 1") @Max(value = 1024, message = "must be at most 1024") Integer kernelSize,
    @Doc("inner width E as a multiple of hidden_size")
    @Min(value = 1, message = "must be at least 1") Integer expansion,
    @Doc("pad on the left only, so no position sees a later one; false centers the kernel")
    Boolean causal)
    implements BlockConfig {

  public static final int DEFAULT_KERNEL_SIZE = 4;
  public static final int DEFAULT_EXPANSION = 2;

  /** A block with every key absent, to be resolved by {@link #withDefaults}. */
  public static GatedConvBlockConfig empty() {
    return new GatedConvBlockConfig(null, null, null, null, null, null, null, null, null, null, null, null, null);
  }

  @Override
  public GatedConvBlockConfig withDefaults(ModelDefaults model) {
    int hidden = CommonDefaults.hiddenSize(hiddenSize, model);
    boolean isGated = gated != null && gated;
    return new GatedConvBlockConfig(
        CommonDefaults.sharedWeights(sharedWeights),
        hidden,
        CommonDefaults.normalization(normalization, model),
        CommonDefaults.ffnHiddenSize(ffnHiddenSize, hidden),
        isGated,
        CommonDefaults.activation(activation, isGated),
        CommonDefaults.lrScale(lrScale),
        CommonDefaults.dropout(dropout),
        lora == null ? null : lora.withDefaults(List.of("in_proj", "out_proj")),
        addLinearBiases == null || addLinearBiases,
        kernelSize != null ? kernelSize : DEFAULT_KERNEL_SIZE,
        expansion != null ? expansion : DEFAULT_EXPANSION,
        causal == null || causal);
  }
}
