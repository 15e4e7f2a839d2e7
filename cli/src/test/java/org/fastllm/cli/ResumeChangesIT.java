package org.fastllm.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The rows on {@code --resume}: a target at or below the checkpoint, and settings other than its run's. */
class ResumeChangesIT {
  static final String[] TINY = {"training.sequence_length=16", "training.batch_size=2", "training.eval_batches=1",
      "training.eval_interval=0", "training.device=cpu"};
  @TempDir Path dir;

  private Path trainedTo(int steps) {
    Path output = dir.resolve("first");
    MainTest.Run r = TrainCommandIT.train(output, Stream.concat(Stream.of(TINY), Stream.of("training.steps=" + steps))
        .toArray(String[]::new));
    assertThat(r.exit()).as(r.err()).isZero();
    return output;
  }

  @Test
  void train_resumeWithStepsAtOrBelowTheCheckpointsStep_isRefusedSayingNothingIsLeft() {
    Path output = trainedTo(3);
    Path checkpoint = output.resolve("checkpoints/step-000003");

    MainTest.Run below = MainTest.run("train", "--resume", output.toString(), "training.steps=2");
    MainTest.Run at = MainTest.run("train", "--resume", output.toString());

    assertThat(below.exit()).as(below.err()).isEqualTo(Main.INVALID);
    assertThat(below.err()).contains("error: training.steps is 2, but checkpoint " + checkpoint + " is at step 3: "
        + "nothing left to train; set training.steps above 3\n");
    assertThat(below.out()).doesNotContain("trained steps");
    assertThat(at.exit()).as(at.err()).isEqualTo(Main.INVALID);
    assertThat(at.err()).contains("error: training.steps is 3, but checkpoint " + checkpoint + " is at step 3");
  }

  @Test
  void train_resumeWithOtherLearningRateBatchSizeAndSeed_isRefusedListingEachUnlessAllowed() {
    Path output = trainedTo(2);
    String[] changed = {"train", "--resume", output.toString(), "training.steps=3", "training.batch_size=4",
        "training.seed=7", "optimizer.learning_rate=0.002", "training.log_interval=1"};

    MainTest.Run refused = MainTest.run(changed);

    assertThat(refused.exit()).as(refused.err()).isEqualTo(Main.INVALID);
    assertThat(refused.err()).contains("warning: training.steps is 3, the checkpoint's run used 2\n",
        "warning: training.batch_size is 4, the checkpoint's run used 2\n",
        "warning: training.seed is 7, the checkpoint's run used 1234\n",
        "warning: optimizer.learning_rate is 0.002, the checkpoint's run used 0.003\n",
        "warning: training.log_interval is 1, the checkpoint's run used 20\n",
        "error: --resume: optimizer.learning_rate, training.batch_size, training.seed change how the run trains, so it "
            + "would not continue exactly as the checkpoint's run; give --allow-changes to resume with them anyway\n");
    assertThat(refused.out()).doesNotContain("trained steps");

    MainTest.Run allowed = MainTest.run(Stream.concat(Stream.of(changed), Stream.of("--allow-changes"))
        .toArray(String[]::new));

    assertThat(allowed.exit()).as(allowed.err()).isZero();
    assertThat(allowed.err()).contains("warning: training.batch_size is 4, the checkpoint's run used 2\n");
    assertThat(allowed.out()).contains("trained steps 3-3 of 3");
  }

  @Test
  void train_resumeWithMoreStepsOnly_isAcceptedAndReportsTheChange() {
    Path output = trainedTo(2);

    MainTest.Run r = MainTest.run("train", "--resume", output.toString(), "training.steps=3");

    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.err()).contains("warning: training.steps is 3, the checkpoint's run used 2\n")
        .doesNotContain("error:");
    assertThat(r.out()).contains("trained steps 3-3 of 3");
  }

  @Test
  void train_resumeWithMoreSteps_continuesTheScheduleWithoutAJump() throws IOException {
    Path output = dir.resolve("first");
    String[] schedule = {"optimizer.warmup_steps=2", "optimizer.min_learning_rate=0.0003", "checkpoint.interval=4",
        "checkpoint.keep=3"};
    MainTest.Run first = TrainCommandIT.train(output, Stream.of(TINY, schedule, new String[] {"training.steps=8"})
        .flatMap(Stream::of).toArray(String[]::new));
    assertThat(first.exit()).as(first.err()).isZero();
    List<Double> before = learningRates(output);

    MainTest.Run resumed = MainTest.run("train", "--resume", output.resolve("checkpoints/step-000004").toString(),
        "training.steps=16");

    assertThat(resumed.exit()).as(resumed.err()).isZero();
    List<Double> after = learningRates(output);
    assertThat(after).hasSize(16);
    assertThat(after.get(4)).as("the rate of step 5, the first after the checkpoint")
        .isCloseTo(before.get(4), within(1e-12));
    for (int i = 5; i < after.size(); i++) {
      assertThat(after.get(i)).as("step " + (i + 1)).isLessThanOrEqualTo(after.get(i - 1));
    }
    assertThat(after.get(15)).isCloseTo(0.0003, within(1e-12));
    assertThat(resumed.err()).contains("resume: training.steps 8 -> 16; the learning rate continues from ")
        .contains(" at step 4 and decays to 0.0003 by step 16\n");
  }

  private static List<Double> learningRates(Path output) throws IOException {
    ObjectMapper json = new ObjectMapper();
    List<Double> rates = new ArrayList<>();
    for (String line : Files.readAllLines(output.resolve("metrics.jsonl"))) {
      rates.add(json.readTree(line).path("lr").asDouble());
    }
    return rates;
  }
}
