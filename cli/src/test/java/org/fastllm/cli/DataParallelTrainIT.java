package org.fastllm.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code train --nproc 2}: two CPU processes over Gloo on loopback against one process with the same batch. */
class DataParallelTrainIT {
  static final String[] TINY = {"training.sequence_length=32", "training.batch_size=4", "training.eval_batches=1",
      "training.steps=5", "training.eval_interval=5", "checkpoint.interval=0", "training.device=cpu"};
  @TempDir Path dir;

  static MainTest.Run train(Path output, String... args) {
    return MainTest.run(Stream.concat(Stream.of("train", "training.output_dir=" + output), Stream.of(args))
        .toArray(String[]::new));
  }

  static String[] concat(String[] a, String... b) {
    return Stream.concat(Stream.of(a), Stream.of(b)).toArray(String[]::new);
  }

  static List<JsonNode> metrics(Path output) throws IOException {
    ObjectMapper json = new ObjectMapper();
    List<JsonNode> lines = new ArrayList<>();
    for (String line : Files.readAllLines(output.resolve("metrics.jsonl"))) {
      lines.add(json.readTree(line));
    }
    return lines;
  }

  @Test
  void train_twoProcessesSharingTheBatch_giveTheLossesOfOneProcess() throws IOException {
    Path one = dir.resolve("one");
    Path two = dir.resolve("two");

    MainTest.Run single = train(one, TINY);
    MainTest.Run parallel = train(two, concat(TINY, "--nproc", "2"));

    assertThat(single.exit()).as(single.err()).isZero();
    assertThat(parallel.exit()).as(parallel.err()).isZero();
    assertThat(parallel.err()).contains(" x 2 processes");
    assertThat(parallel.out()).contains("checkpoint " + two.resolve("checkpoints/step-000005"));
    List<JsonNode> expected = metrics(one);
    List<JsonNode> actual = metrics(two);
    assertThat(actual).hasSize(5);
    for (int i = 0; i < 5; i++) {
      for (String key : List.of("loss", "grad_norm")) {
        double e = expected.get(i).get(key).asDouble();
        assertThat(actual.get(i).get(key).asDouble()).as("step %d %s", i + 1, key).isCloseTo(e, within(1e-5 * e));
      }
    }
    double validation = expected.get(4).get("val_loss").asDouble();
    assertThat(actual.get(4).get("val_loss").asDouble()).isCloseTo(validation, within(1e-5 * validation));
    assertThat(Files.readString(two.resolve("checkpoints/step-000005/state.json"))).contains("\"world_size\":2");
    assertThat(two.resolve("rank-1.log")).exists();
    assertThat(parallel.out().split("sample greedy", -1)).as("rank 0 alone prints the sample").hasSize(2);
    assertThat(Files.readString(two.resolve("rank-1.log"))).doesNotContain("sample greedy");
  }

  @Test
  void train_resumeWithOtherProcessCount_isRefusedNamingBoth() {
    Path output = dir.resolve("first");
    assertThat(train(output, concat(TINY, "training.steps=1", "--nproc", "2")).exit()).isZero();

    MainTest.Run r = MainTest.run("train", "--resume", output.toString(), "training.steps=2");

    assertThat(r.exit()).isEqualTo(Main.INVALID);
    assertThat(r.err()).contains("error: checkpoint " + output.resolve("checkpoints/step-000001")
        + " was saved by a run of 2 processes; resume it with the same number (--nproc 2 or WORLD_SIZE=2), not 1");
  }

  @Test
  void train_processesFailing_returnTheFailureAndStopTheRest() {
    // no CUDA device on the test machine: each process finds that out itself, after the launcher has started it
    MainTest.Run r = train(dir.resolve("failed"), concat(TINY, "training.device=cuda", "--nproc", "2"));

    assertThat(r.exit()).isEqualTo(Main.INVALID);
    assertThat(r.err()).containsPattern("error: process [01] of 2 exited with 2(; its output is in .*rank-1.log)?; "
        + "the others were stopped");
  }

  @Test
  void train_missingData_isRefusedByTheLauncherBeforeAnyProcessStarts() {
    Path output = dir.resolve("missing");
    MainTest.Run r = train(output, concat(TINY, "data.path=" + dir.resolve("missing.txt"), "--nproc", "2"));

    assertThat(r.exit()).isEqualTo(Main.INVALID);
    assertThat(r.err()).contains("missing.txt").doesNotContain("process 0 of 2").doesNotContain("process 1 of 2");
    assertThat(output.resolve("rank-1.log")).doesNotExist();
  }

  @Test
  void train_textFile_isTokenizedOnceByTheLauncherAndEveryProcessReadsTheCache() throws IOException {
    Path text = Files.writeString(dir.resolve("corpus.txt"), "the river wakes before the town does.\n".repeat(400));
    Path output = dir.resolve("cached");

    MainTest.Run r = train(output, concat(TINY, "data.path=" + text, "--nproc", "2"));

    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.err()).as("rank 0").contains("tokens: from cache");
    assertThat(Files.readString(output.resolve("rank-1.log"))).doesNotContain("tokeniz");
  }

  @Test
  void train_batchNotAMultipleOfProcesses_isRefusedBeforeStarting() {
    MainTest.Run r = train(dir, concat(TINY, "training.batch_size=3", "--nproc", "2"));

    assertThat(r.exit()).isEqualTo(Main.INVALID);
    assertThat(r.err()).contains("error: training.batch_size is 3, which 2 processes cannot share; with data "
        + "parallelism it must be a multiple of the number of processes");
  }
}
