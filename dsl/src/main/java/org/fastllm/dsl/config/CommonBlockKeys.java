package org.fastllm.dsl.config;

import jakarta.validation.Valid;
import jakarta.validation.constraints.DecimalMax;
import jakarta.validation.constraints.DecimalMin;
import jakarta.validation.constraints.Min;
import java.util.List;
import org.fastllm.dsl.Doc;

/**
 * The ten keys every block has, whatever its kind: declared, bounded, documented and defaulted here once, for core
 * and plugin kinds alike. A block record holds them as its first component, {@code common}, and declares only its
 * own keys after it; YAML writes them flat, beside the kind's own keys.
 *
 * <pre>{@code
 * a: {kind: transformer, lr_scale: 0.5, num_heads: 4}   // lr_scale is a common key, num_heads transformer's own
 *
 * @Block(kind = "gated_conv")
 * public record GatedConvBlockConfig(CommonBlockKeys common, Integer kernelSize, ...) implements BlockConfig {
 *   public GatedConvBlockConfig withDefaults(ModelDefaults model) {
 *     return new GatedConvBlockConfig(common.withDefaults(model, KIND_DEFAULTS), ...);
 *   }
 * }
 * }</pre>
 *
 * <p><b>The loader checks these bounds on every block, whatever its record says</b>, with the paths of the flat
 * keys ({@code model.blocks.a.lr_scale}); a block record must not mark {@code common} {@code @Valid}.
 */
public record CommonBlockKeys(
    @Doc("every use of the block shares one set of parameters: built once, counted, optimised and stored once")
    Boolean sharedWeights,
    @Doc(value = "the residual width; may repeat the model's, must then agree", defaultValue = "the model's hidden_size")
    @Min(value = 1, message = "must be at least 1") Integer hiddenSize,
    @Doc(value = "the block's two pre-norms", defaultValue = "the model's normalization")
    @Valid NormalizationConfig normalization,
    @Doc(value = "MLP inner width; 0 leaves the MLP out", defaultValue = "4 x hidden_size")
    @Min(value = 0, message = "must be at least 0 (0 leaves the MLP out)") Integer ffnHiddenSize,
    @Doc("gated MLP: layer_1 is twice as wide")
    Boolean gated,
    @Doc(value = "MLP activation", defaultValue = "silu when gated, else gelu")
    Activation activation,
    @Doc("learning-rate multiplier of the block's tensors; 0 freezes the block")
    @DecimalMin(value = "0.0", message = "must be at least 0 (0 freezes the block)") Double lrScale,
    @Doc("dropout after the mixer and after the MLP")
    @DecimalMin(value = "0.0", message = "must be at least 0")
    @DecimalMax(value = "1.0", inclusive = false, message = "must be below 1") Double dropout,
    @Doc(value = "low-rank adapters on some of the block's linear layers", defaultValue = "none")
    @Valid LoraConfig lora,
    @Doc("the block's linear layers carry biases")
    Boolean addLinearBiases) {

  /** Every key absent: a block written with only its kind and its own keys. */
  public static final CommonBlockKeys NONE =
      new CommonBlockKeys(null, null, null, null, null, null, null, null, null, null);

  /**
   * The two defaults a kind chooses for itself: whether its linear layers carry biases when
   * {@code add_linear_biases} is absent, and which of them LoRA adapts when {@code lora.targets} is absent.
   *
   * <pre>{@code new CommonBlockKeys.KindDefaults(true, List.of("query", "key_value"))  // transformer}</pre>
   */
  public record KindDefaults(boolean linearBiases, List<String> loraTargets) {
    public KindDefaults {
      loraTargets = List.copyOf(loraTargets);
    }
  }

  /**
   * A copy with every absent key given its default: the model's width and normalization, an MLP of 4 x the width
   * (absent when that does not fit an int, which validation reports), silu when gated else gelu, lr_scale 1,
   * dropout 0, no sharing, and the kind's own choices for biases and LoRA targets. Idempotent.
   */
  public CommonBlockKeys withDefaults(ModelDefaults model, KindDefaults kind) {
    int hidden = hiddenSize != null ? hiddenSize : model.hiddenSize();
    boolean isGated = gated != null && gated;
    return new CommonBlockKeys(
        sharedWeights != null && sharedWeights,
        hidden,
        normalization == null ? model.normalization() : normalization.orElse(model.normalization()),
        ffnHiddenSize != null ? ffnHiddenSize : fourTimes(hidden),
        isGated,
        activation != null ? activation : isGated ? Activation.SILU : Activation.GELU,
        lrScale != null ? lrScale : 1.0,
        dropout != null ? dropout : 0.0,
        lora == null ? null : lora.withDefaults(kind.loraTargets()),
        addLinearBiases != null ? addLinearBiases : kind.linearBiases());
  }

  /** 4 x hidden, or null when that product does not fit an int (reported by validation). */
  private static Integer fourTimes(int hidden) {
    long ffn = 4L * hidden;
    return ffn <= Integer.MAX_VALUE ? (int) ffn : null;
  }
}
