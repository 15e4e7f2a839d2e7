package org.fastllm.example;

import static org.assertj.core.api.Assertions.assertThat;

import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.CommonBlockKeys;
import org.fastllm.dsl.config.ModelDefaults;
import org.fastllm.dsl.config.NormalizationConfig;
import org.fastllm.modules.layer.Adapters;
import org.fastllm.modules.layer.DecodeState;
import org.fastllm.modules.stack.Decoding;
import org.fastllm.modules.stack.LanguageModel;
import org.fastllm.modules.stack.NamedParameter;
import org.fastllm.modules.stack.StackBuilder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The gated_conv mixer's step function: decoding from its conv window gives the full forward's outputs. */
class GatedConvDecodeTest {
  private static final int LENGTH = 11;

  @BeforeAll
  static void oneThread() {
    torch.set_num_threads(1);
  }

  private static GatedConvMixer mixer(int kernel, boolean causal) {
    return new GatedConvMixer(new GatedConvBlockConfig(CommonBlockKeys.NONE, kernel, 2, causal)
        .withDefaults(new ModelDefaults(8, NormalizationConfig.DEFAULT)));
  }

  private static double relativeDifference(Tensor a, Tensor b) {
    return a.sub(b).abs().max().item_double() / b.abs().max().item_double();
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 3, 4, 6})
  void decode_oneInputAtATime_equalsTheForwardAtEveryPosition(int kernel) {
    torch.manual_seed(kernel);
    GatedConvMixer mixer = mixer(kernel, true);
    Tensor x = torch.randn(new long[] {2, LENGTH, 8}, new TensorOptions(torch.ScalarType.Float));
    try (NoGradGuard noGrad = new NoGradGuard(); DecodeState state = mixer.startDecoding(2)) {
      Tensor full = mixer.forward(x);
      for (long t = 0; t < LENGTH; t++) {
        Tensor step = mixer.decode(x.narrow(1, t, 1), Adapters.NONE, state);
        assertThat(relativeDifference(step, full.narrow(1, t, 1))).as("position %d", t).isLessThan(1e-6);
      }
    }
    assertThat(mixer.decodesIncrementally()).isTrue();
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 3, 6})
  void decode_fixedAfterThePrompt_writesItsWindowInPlaceAndEqualsTheForward(int kernel) {
    torch.manual_seed(kernel);
    GatedConvMixer mixer = mixer(kernel, true);
    Tensor x = torch.randn(new long[] {2, LENGTH, 8}, new TensorOptions(torch.ScalarType.Float));
    try (NoGradGuard noGrad = new NoGradGuard(); DecodeState state = mixer.startDecoding(2)) {
      Tensor full = mixer.forward(x);
      mixer.decode(x.narrow(1, 0, 4), Adapters.NONE, state);
      ShortConvWindow window = (ShortConvWindow) state;
      window.fix(LENGTH, torch.zeros(new long[] {1}, new TensorOptions(torch.ScalarType.Long)));
      long address = window.inputs.get().data_ptr().address();
      for (long t = 4; t < LENGTH; t++) {
        Tensor step = mixer.decode(x.narrow(1, t, 1), Adapters.NONE, state);
        assertThat(relativeDifference(step, full.narrow(1, t, 1))).as("position %d", t).isLessThan(1e-6);
      }
      assertThat(window.inputs.get().data_ptr().address()).as("the window stays where it is").isEqualTo(address);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 3, 4, 6})
  void decode_aPromptShorterThanTheKernelThenPieces_equalsTheForward(int kernel) {
    torch.manual_seed(10 + kernel);
    GatedConvMixer mixer = mixer(kernel, true);
    Tensor x = torch.randn(new long[] {2, LENGTH, 8}, new TensorOptions(torch.ScalarType.Float));
    long[] pieces = {2, 1, 5, 3};
    try (NoGradGuard noGrad = new NoGradGuard(); DecodeState state = mixer.startDecoding(2)) {
      Tensor full = mixer.forward(x);
      long at = 0;
      for (long piece : pieces) {
        Tensor decoded = mixer.decode(x.narrow(1, at, piece), Adapters.NONE, state);
        assertThat(relativeDifference(decoded, full.narrow(1, at, piece))).as("positions from %d", at)
            .isLessThan(1e-6);
        at += piece;
      }
    }
  }

  @Test
  void decodesIncrementally_centeredKernel_isFalseAndDecodeRecomputesThePrefix() {
    torch.manual_seed(4);
    GatedConvMixer mixer = mixer(3, false);
    Tensor x = torch.randn(new long[] {1, 6, 8}, new TensorOptions(torch.ScalarType.Float));
    try (NoGradGuard noGrad = new NoGradGuard(); DecodeState state = mixer.startDecoding(1)) {
      mixer.decode(x.narrow(1, 0, 4), Adapters.NONE, state);
      Tensor fifth = mixer.decode(x.narrow(1, 4, 1), Adapters.NONE, state);
      // a centered kernel sees one later position: decoding gives the forward over the prefix seen so far
      assertThat(relativeDifference(fifth, mixer.forward(x.narrow(1, 0, 5)).narrow(1, 4, 1))).isLessThan(1e-6);
    }
    assertThat(mixer.decodesIncrementally()).isFalse();
  }

  @Test
  void decodeLogits_gatedConvModelWithLoraPerUse_equalTheFullForwardTokenByToken() {
    torch.manual_seed(8);
    LanguageModel model = StackBuilder.installed().build(GatedConvTrainingTest.config("""
        model:
          hidden_size: 16
          vocab_size: 40
          blocks:
            conv:
              kind: gated_conv
              kernel_size: 3
              ffn_hidden_size: 32
              shared_weights: true
              lora: {rank: 2, per_use: true}
            att: {kind: transformer, num_heads: 2, ffn_hidden_size: 32}
          block_pattern: [conv, att, conv]
          num_layers: 3
        """).model().withDefaults());
    model.eval();
    assertThat(model.decodesIncrementally()).isTrue();
    try (NoGradGuard noGrad = new NoGradGuard()) {
      for (NamedParameter p : model.uniqueParameters()) {
        if (p.name().startsWith("adapters.") && p.name().endsWith(".b")) {
          p.tensor().copy_(torch.randn_like(p.tensor()).mul(new Scalar(0.2))); // LoRA B starts at zero
        }
      }
      Tensor tokens = torch.randint(40, new long[] {2, LENGTH}, new TensorOptions(torch.ScalarType.Long));
      Tensor full = model.logits(tokens);
      try (Decoding decoding = model.startDecoding(2)) {
        for (long t = 0; t < LENGTH; t++) {
          Tensor step = model.decodeLogits(tokens.narrow(1, t, 1), decoding);
          assertThat(relativeDifference(step, full.narrow(1, t, 1))).as("position %d", t).isLessThan(1e-5);
        }
      }
    }
  }
}
