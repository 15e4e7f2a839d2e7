package org.fastllm.modules.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

import java.nio.file.Path;
import java.util.Optional;
import java.util.Random;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.NoGradGuard;
import org.fastllm.dsl.config.ConfigDocument;
import org.fastllm.modules.data.BatchSampler;
import org.fastllm.modules.data.Tokens;
import org.fastllm.modules.distributed.GradientSync;
import org.fastllm.modules.stack.LanguageModel;
import org.fastllm.modules.stack.StackBuilder;
import org.fastllm.modules.testing.Torch;
import org.junit.jupiter.api.Test;

class EvaluationTest {
  static final Device CPU = new Device("cpu");
  static final int BATCHES = 2;

  static LanguageModel model(String dropout) {
    Torch.seed(3);
    ConfigDocument config = TrainerTest.config(TrainerTest.yaml(Path.of("unused"), ", dropout: " + dropout));
    return StackBuilder.installed().build(config.model().withDefaults(), config.training().kernels());
  }

  static BatchSampler heldOut() {
    Random random = new Random(11);
    int[] ids = new int[400];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = random.nextInt(256);
    }
    return new BatchSampler(Tokens.of(ids), 2, 16, 5, 256);
  }

  static Evaluation evaluation(LanguageModel model) {
    return new Evaluation(Optional.of(heldOut()), 1, BATCHES, 10, model, CPU, GradientSync.NONE);
  }

  /** The mean loss over the held-out batches, computed batch by batch in the model's current mode. */
  static double meanLoss(LanguageModel model) {
    BatchSampler sampler = heldOut();
    double sum = 0;
    try (NoGradGuard noGrad = new NoGradGuard()) {
      for (int b = 0; b < BATCHES; b++) {
        BatchSampler.Batch batch = sampler.batch(b, CPU);
        sum += model.loss(batch.inputs(), batch.targets()).item_double();
      }
    }
    return sum / BATCHES;
  }

  @Test
  void ifDue_withDropout_givesTheSameEvalModeLossTwiceAndLeavesTrainingMode() {
    LanguageModel model = model("0.3");
    Evaluation evaluation = evaluation(model);

    Double first = evaluation.ifDue(1);
    boolean trainingAfter = model.is_training();
    Double second = evaluation.ifDue(2);
    double trainingModeLoss = meanLoss(model);
    model.eval();
    double evalModeLoss = meanLoss(model);

    assertThat(trainingAfter).isTrue();
    assertThat(second).isEqualTo(first);
    assertThat(first).isCloseTo(evalModeLoss, offset(1e-5));
    assertThat(Math.abs(trainingModeLoss - evalModeLoss)).as("dropout 0.3 changes the training-mode loss")
        .isGreaterThan(1e-4);
  }

  @Test
  void ifDue_modelInEvalMode_staysInEvalMode() {
    LanguageModel model = model("0.3");
    model.eval();

    evaluation(model).ifDue(1);

    assertThat(model.is_training()).isFalse();
  }

  @Test
  void ifDue_withoutDropout_equalsTheTrainingModeLoss() {
    LanguageModel model = model("0");

    double validation = evaluation(model).ifDue(1);

    assertThat(validation).isCloseTo(meanLoss(model), offset(1e-5));
    assertThat(model.is_training()).isTrue();
  }
}
