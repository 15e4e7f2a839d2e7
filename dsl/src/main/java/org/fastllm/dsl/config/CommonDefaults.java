package org.fastllm.dsl.config;

/**
 * The defaults of the keys every block has, in one place so every kind resolves them the same way.
 */
public final class CommonDefaults {
  private CommonDefaults() {}

  public static boolean sharedWeights(Boolean value) {
    return value != null && value;
  }

  public static int hiddenSize(Integer value, ModelDefaults model) {
    return value != null ? value : model.hiddenSize();
  }

  public static NormalizationConfig normalization(NormalizationConfig value, ModelDefaults model) {
    return value == null ? model.normalization() : value.orElse(model.normalization());
  }

  /** 4 x hidden, or null when that product does not fit an int (reported by validation). */
  public static Integer ffnHiddenSize(Integer value, int hiddenSize) {
    if (value != null) {
      return value;
    }
    long ffn = 4L * hiddenSize;
    return ffn <= Integer.MAX_VALUE ? (int) ffn : null;
  }

  public static Activation activation(Activation value, boolean gated) {
    return value != null ? value : gated ? Activation.SILU : Activation.GELU;
  }

  public static double lrScale(Double value) {
    return value != null ? value : 1.0;
  }

  public static double dropout(Double value) {
    return value != null ? value : 0.0;
  }
}
