package org.fastllm.modules.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.CommonBlockKeys;
import org.fastllm.dsl.config.KernelChoice;
import org.fastllm.dsl.config.KernelsConfig;
import org.fastllm.dsl.config.LoraConfig;
import org.fastllm.dsl.config.ModelConfig;
import org.fastllm.dsl.config.TransformerBlockConfig;
import org.fastllm.modules.data.BatchSampler;
import org.fastllm.modules.stack.LanguageModel;
import org.fastllm.modules.stack.NamedParameter;
import org.fastllm.modules.stack.StackBuilder;
import org.junit.jupiter.api.Test;

/** When a run records its micro-batches as a CUDA graph, and what a micro-batch computes either way. */
class StepGraphTest {
  private static ModelConfig model(Double dropout, LoraConfig lora) {
    TransformerBlockConfig block = new TransformerBlockConfig(new CommonBlockKeys(null, null, null, 16, null, null,
        null, dropout, lora, null), null, 2, null, null, null, null, true, null, null, null);
    return new ModelConfig(8, 32, false, null, Map.of("gpt", block), List.of("gpt"), 2, 16, false);
  }

  @Test
  void unavailable_saysWhyARunLaunchesEagerly() {
    Device cuda = new Device("cuda");
    assertThat(StepGraph.unavailable(model(null, null), new Device("cpu"), 1)).isEqualTo("not a CUDA device");
    assertThat(StepGraph.unavailable(model(0.0, null), cuda, 1)).as("a GPU run without dropout records").isNull();
    assertThat(StepGraph.unavailable(model(null, null), cuda, 2)).contains("data-parallel");
    assertThat(StepGraph.unavailable(model(0.1, null), cuda, 1)).contains("block gpt").contains("dropout");
    LoraConfig loraDropout = new LoraConfig(2, 4.0, 0.05, null, null, null);
    assertThat(StepGraph.unavailable(model(null, loraDropout), cuda, 1)).contains("block gpt");
  }

  @Test
  void kernelsFor_anAutoNormOnAGpuThatLaunchesEagerly_isOffAndTheReportSaysWhy() {
    Device cuda = new Device("cuda");
    KernelsConfig auto = KernelsConfig.DEFAULTS.withDefaults();
    KernelsConfig on = new KernelsConfig(KernelChoice.ON, null, null, null, null, null, null).withDefaults();
    String eager = "block gpt has dropout, and a replay would draw the recording's mask again";

    assertThat(StepGraph.kernelsFor(auto, cuda, eager).norm()).isEqualTo(KernelChoice.OFF);
    assertThat(StepGraph.kernelsFor(auto, cuda, eager).scan()).as("the other kernels as chosen")
        .isEqualTo(KernelChoice.AUTO);
    assertThat(StepGraph.normReport(auto, cuda, eager))
        .isEqualTo("tensor operations (auto, and the step launches eagerly: " + eager + ")");
    assertThat(StepGraph.kernelsFor(auto, cuda, null)).as("replayed steps keep auto").isEqualTo(auto);
    assertThat(StepGraph.kernelsFor(on, cuda, eager)).as("on is the user's choice").isEqualTo(on);
    assertThat(StepGraph.kernelsFor(auto, new Device("cpu"), "not a CUDA device"))
        .as("on the CPU auto says itself why no kernel runs").isEqualTo(auto);
    assertThat(StepGraph.normReport(auto, cuda, null)).isNull();
  }

  @Test
  void keepsGradients_fromTheSizeOfTheSingleUseLinearWeights() {
    torch.manual_seed(4);
    LanguageModel small = StackBuilder.installed().build(model(null, null).withDefaults());

    assertThat(StepGraph.keepsGradients(small, KernelChoice.AUTO)).as("a small model keeps flat gradients").isFalse();
    assertThat(StepGraph.keepsGradients(StepGraph.KEEP_GRADIENTS_FROM, KernelChoice.AUTO)).isTrue();
    assertThat(StepGraph.keepsGradients(StepGraph.KEEP_GRADIENTS_FROM - 1, KernelChoice.AUTO)).isFalse();
    assertThat(StepGraph.keepsGradients(small, KernelChoice.ON)).as("bf16_copies: on asks for the copies").isTrue();
    assertThat(StepGraph.keepsGradients(StepGraph.KEEP_GRADIENTS_FROM, KernelChoice.OFF))
        .as("without copies flat gradients cost less").isFalse();
  }

  @Test
  void lossAndGradients_eagerly_isTheLossAndAShareOfItsGradients() {
    torch.manual_seed(3);
    LanguageModel model = StackBuilder.installed().build(model(null, null).withDefaults());
    Tensor tokens = torch.randint(32, new long[] {2, 9}, new TensorOptions(torch.ScalarType.Long));
    BatchSampler.Batch batch = new BatchSampler.Batch(tokens.narrow(1, 0, 8), tokens.narrow(1, 1, 8));
    Tensor expected = model.loss(batch.inputs(), batch.targets());
    expected.backward();
    NamedParameter first = model.uniqueParameters().get(0);
    Tensor whole = first.tensor().grad().clone();
    first.tensor().mutable_grad().put(new Tensor());
    try (StepGraph graph = new StepGraph(model, 2, "not a CUDA device")) {
      Tensor loss = graph.lossAndGradients(batch);
      assertThat(loss.item_double()).isEqualTo(expected.item_double());
      assertThat(loss.requires_grad()).as("detached").isFalse();
      assertThat(first.tensor().grad().sub(whole.div(new org.bytedeco.pytorch.Scalar(2.0))).abs().max().item_double())
          .as("half the gradient, for 2 micro-batches a step").isLessThan(1e-7);
      assertThat(graph.outcome()).isEqualTo("eager launches (not a CUDA device)");
    }
  }
}
