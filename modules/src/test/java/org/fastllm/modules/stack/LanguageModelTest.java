package org.fastllm.modules.stack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.dsl.config.KernelChoice;
import org.fastllm.dsl.config.KernelsConfig;
import org.fastllm.dsl.config.ResolvedModel;
import org.fastllm.dsl.config.NormType;
import org.fastllm.dsl.config.SsmVariant;
import org.fastllm.modules.attention.TensorRotaryKernels;
import org.fastllm.modules.kernel.KernelImplementations;
import org.fastllm.modules.kernel.KernelReport;
import org.fastllm.modules.loss.TensorCrossEntropyKernels;
import org.fastllm.modules.ssm.JavaScanKernels;
import org.fastllm.modules.testing.Torch;
import org.junit.jupiter.api.Test;

/**
 * A built model's hand-written kernel paths: its own backward tape (two models train side by side), the
 * {@code training.kernels} choices and the report of what ran. The kernel paths run on the CPU through the CPU
 * twins of the kernels (rotary, loss, selective scan).
 */
class LanguageModelTest {
  private static final KernelImplementations TWINS = TensorRotaryKernels.in(
      TensorCrossEntropyKernels.in(JavaScanKernels.in(KernelImplementations.STANDARD, 4)));

  /** Attention with rotary embeddings, Mamba 1 and Mamba 2 blocks: every layer kernel but the norm's. */
  private static ResolvedModel hybrid(List<String> pattern, int layers) {
    Map<String, BlockConfig> blocks = new LinkedHashMap<>();
    blocks.put("a", StackBuilderTest.attention("GQA", 4, 2, false, null, true, 24, null));
    blocks.put("m1", StackBuilderTest.ssm(SsmVariant.MAMBA1, false, false, 24));
    blocks.put("m2", StackBuilderTest.ssm(SsmVariant.MAMBA2, true, true, 0));
    return StackBuilderTest.model(blocks, pattern, layers, false, false, NormType.RMS_NORM);
  }

  private static Tensor tokens(long seed) {
    Torch.seed(seed);
    return torch.randint(32, new long[] {2, 9}, new TensorOptions(torch.ScalarType.Long));
  }

  private static LanguageModel build(ResolvedModel config, long seed) {
    Torch.seed(seed);
    return StackBuilder.installed().withKernels(TWINS).build(config);
  }

  private static Map<String, Tensor> gradients(LanguageModel model) {
    Map<String, Tensor> gradients = new LinkedHashMap<>();
    model.uniqueParameters().forEach(p -> gradients.put(p.name(), p.tensor().grad().clone()));
    return gradients;
  }

  @Test
  void twoModels_interleavedForwardsAndBackwards_eachGetsTheGradientsItGetsAlone() {
    ResolvedModel first = hybrid(List.of("a", "m1", "m2"), 3);
    ResolvedModel second = hybrid(List.of("m2", "a", "m1", "m2"), 5);
    Tensor firstTokens = tokens(11);
    Tensor secondTokens = tokens(12);
    LanguageModel firstAlone = build(first, 1);
    firstAlone.loss(firstTokens, firstTokens).backward();
    LanguageModel secondAlone = build(second, 2);
    secondAlone.loss(secondTokens, secondTokens).backward();
    LanguageModel one = build(first, 1);
    LanguageModel other = build(second, 2);

    Tensor oneLoss = one.loss(firstTokens, firstTokens);
    Tensor otherLoss = other.loss(secondTokens, secondTokens);
    oneLoss.backward();
    otherLoss.backward();

    for (LanguageModel[] pair : new LanguageModel[][] {{one, firstAlone}, {other, secondAlone}}) {
      Map<String, Tensor> alone = gradients(pair[1]);
      gradients(pair[0]).forEach((name, gradient) ->
          assertThat(torch.equal(gradient, alone.get(name)))
              .as(name + " of the " + (pair[0] == one ? "first" : "second"))
              .isTrue());
      assertThat(pair[0].pendingKernelBackwards()).isEqualTo(0);
    }
    assertThat(one.kernelReport())
        .as("the twins ran")
        .isEqualTo(Map.of("loss", KernelReport.KERNEL,
            "norm", "tensor operations (the input is not on a CUDA device (cpu))",
            "rotary", KernelReport.KERNEL, "scan", KernelReport.KERNEL));
  }

  @Test
  void kernelReport_onTheCpu_saysTensorOperationsAndWhy() {
    LanguageModel model = StackBuilder.installed().build(hybrid(List.of("a", "m1"), 2));
    assertThat(model.kernelReport()).as("nothing ran yet").isEqualTo(Map.of());
    Tensor tokens = tokens(3);

    model.loss(tokens, tokens).backward();

    assertThat(model.kernelReport())
        .isEqualTo(Map.of("loss", "tensor operations (the logits are not on a CUDA device (cpu))",
            "norm", "tensor operations (the input is not on a CUDA device (cpu))",
            "rotary", "tensor operations (the input is not on a CUDA device (cpu))",
            "scan", "tensor operations (the input is not on a CUDA device (cpu))"));
  }

  @Test
  void kernelOn_whereItCannotRun_stopsTheForwardNamingTheKeyAndTheReason() {
    KernelsConfig scanOn = new KernelsConfig(null, null, KernelChoice.ON, null, null, null, null).withDefaults();
    LanguageModel model = StackBuilder.installed().build(hybrid(List.of("m1"), 1), scanOn);
    Tensor tokens = tokens(4);

    IllegalStateException e = catchThrowableOfType(IllegalStateException.class, () -> model.loss(tokens, tokens));
    assertThat(e).as("expected IllegalStateException to be thrown").isNotNull();

    assertThat(e.getMessage())
        .isEqualTo("training.kernels.scan is on, but the scan kernel cannot run here: the input is not on a CUDA "
            + "device (cpu); set it to auto or off");
  }

  @Test
  void kernelsOff_twinsThatWouldRun_leaveTensorOperations() {
    KernelsConfig off = new KernelsConfig(KernelChoice.OFF, KernelChoice.OFF, KernelChoice.OFF, KernelChoice.OFF,
        null, null, null).withDefaults();
    Torch.seed(1);
    LanguageModel model = StackBuilder.installed().withKernels(TWINS).build(hybrid(List.of("a", "m1"), 2), off);
    Tensor tokens = tokens(5);

    model.loss(tokens, tokens).backward();

    assertThat(model.pendingKernelBackwards()).isEqualTo(0);
    model.kernelReport().values().forEach(ran -> assertThat(ran)
        .isEqualTo("tensor operations (off in training.kernels)"));
    assertThat(model.kernelReport().size()).isEqualTo(4);
  }
}
