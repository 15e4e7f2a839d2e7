package org.fastllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.fastllm.modules.checkpoint.Checkpoint;
import org.fastllm.modules.checkpoint.SaveHook;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainCommandIT {
  /** The built-in model, made cheap: short sequences, a few steps. */
  static final String[] SMALL = {"training.sequence_length=32", "training.batch_size=2", "training.eval_batches=1"};
  @TempDir Path dir;

  static MainTest.Run train(Path output, String... args) {
    String[] all = Stream.concat(Stream.of("train", "training.output_dir=" + output), Stream.of(args))
        .toArray(String[]::new);
    return MainTest.run(all);
  }

  static double firstLoss(Path metrics) throws IOException {
    return lossOf(Files.readAllLines(metrics).get(0));
  }

  static double lossOf(String line) {
    return Double.parseDouble(line.replaceAll(".*\"loss\":([0-9.]+).*", "$1"));
  }

  @Test
  void train_builtInRunShortened_halvesTheLossAndWritesItsFiles() throws IOException {
    Path output = dir.resolve("run");

    MainTest.Run r = train(output, "training.steps=40", "training.eval_interval=20", "checkpoint.interval=0");

    assertThat(r.exit()).as(r.err()).isZero();
    List<String> metrics = Files.readAllLines(output.resolve("metrics.jsonl"));
    assertThat(metrics).hasSize(40);
    double first = lossOf(metrics.get(0));
    double last = lossOf(metrics.get(39));
    assertThat(last).as("loss %s -> %s", first, last).isLessThanOrEqualTo(first / 2);
    assertThat(metrics.get(19)).contains("\"val_loss\":");
    assertThat(r.err()).contains("step 20/40  loss ").contains(" tok/s ").contains("ETA ");
    assertThat(r.out()).contains("trained steps 1-40 of 40: 40,960 tokens in ")
        .contains("metrics    " + output.resolve("metrics.jsonl"))
        .contains("checkpoint " + output.resolve("checkpoints/step-000040"))
        .containsPattern("\nsample prompt   \".+\"   \\(the start of the held-out text\\)\n"
            + "sample greedy   \"[^\n]+\"\n$");
    assertThat(Files.size(output.resolve("loss.png"))).isGreaterThan(1000);
    assertThat(Files.readString(output.resolve("checkpoints/step-000040/config.yaml")))
        .contains("kind: ssm").contains("steps: 40").contains("gradient_accumulation: 1");
  }

  @Test
  void train_unknownOverrideKey_isAnErrorWithSuggestionAtTheCommandLine() {
    MainTest.Run r = train(dir, "training.stepz=5", "optimizer.learning_rate=fast");

    assertThat(r.exit()).isEqualTo(Main.INVALID);
    assertThat(r.err()).contains("command line:2:1: training.stepz: unknown key 'stepz' (did you mean 'steps'?)")
        .contains("command line:3:1: optimizer.learning_rate: expected a number, got text 'fast'")
        .contains("2 errors");
  }

  @Test
  void train_settingWithoutEquals_isAUsageError() {
    MainTest.Run r = train(dir, "training.steps");

    assertThat(r.exit()).isEqualTo(Main.INVALID);
    assertThat(r.err()).contains("command line:2:1: training.steps: not a setting: write a dotted key, '=' and a "
        + "value, e.g. training.steps=200");
  }

  @Test
  void train_resumeWithOtherMlpWidth_isRefusedSayingWhatDiffers() {
    Path output = dir.resolve("first");
    assertThat(train(output, concat(SMALL, "training.steps=2")).exit()).isZero();

    MainTest.Run r = MainTest.run("train", "--resume", output.toString(), "model.blocks.attention.ffn_hidden_size=128",
        "training.steps=4");

    assertThat(r.exit()).isEqualTo(Main.INVALID);
    assertThat(r.err()).contains("error: checkpoint " + output.resolve("checkpoints/step-000002")
        + " holds a different model than the config:\n  model.blocks.attention.ffn_hidden_size is 256 in the checkpoint, 128"
        + " in the config\n");
  }

  @Test
  void train_kernelOnWhereItCannotRun_isAnErrorNamingTheKeyAndTheReason() {
    MainTest.Run r = train(dir.resolve("on"), concat(SMALL, "training.steps=1", "training.kernels.loss=on"));

    assertThat(r.exit()).as(r.err()).isEqualTo(Main.INVALID);
    assertThat(r.err()).contains("error: training.kernels.loss is on, but the loss kernel cannot run here: the logits"
        + " are not on a CUDA device (cpu); set it to auto or off");
  }

  @Test
  void train_divergingLoss_exitsWith3AndSaysWhy() {
    MainTest.Run r = train(dir.resolve("nan"), concat(SMALL, "training.steps=5", "optimizer.learning_rate=1e30",
        "optimizer.grad_clip=0"));

    assertThat(r.exit()).as(r.err()).isEqualTo(Main.DIVERGED);
    assertThat(r.err()).containsPattern("error: training stopped at step \\d: the (loss|gradient norm) is "
        + "(NaN|Infinity|-Infinity) \\(lower optimizer.learning_rate, or set optimizer.grad_clip\\)");
  }

  @Test
  void train_legacyFastLlmFile_trainsWithWarningsAndSavesTheNewFormat() throws IOException {
    Path legacy = dir.resolve("legacy.yaml");
    Files.writeString(legacy, """
        model:
          base_model:
            transformer: {hidden_size: 32, num_layers: 2, num_attention_heads: 2}
            vocab_size: 256
        training: {train_iters: 2}
        batch: {micro_batch_size: 2, batch_size: 4, sequence_length: 16}
        optimizer: {learning_rate: {base: 1.0e-3}}
        """);

    MainTest.Run r = MainTest.run("train", "--config", legacy.toString(), "training.output_dir=" + dir.resolve("out"),
        "training.device=cpu");

    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.err()).contains("warning: batch: the 'batch' section of a Fast-LLM training file is deprecated; "
        + "mapped to batch.micro_batch_size -> training.batch_size, batch.batch_size -> "
        + "training.gradient_accumulation (batch_size / micro_batch_size), batch.sequence_length -> "
        + "training.sequence_length (write those keys instead)");
    String saved = Files.readString(dir.resolve("out/checkpoints/step-000002/config.yaml"));
    assertThat(saved).contains("blocks:").contains("gradient_accumulation: 2").contains("weight_decay: 0.01")
        .doesNotContain("base_model");
  }

  /** A child JVM is killed while it sleeps inside its second save; the first checkpoint must still load. */
  @Test
  void train_killedDuringSave_leavesThePreviousCheckpointLoadable() throws Exception {
    Path output = dir.resolve("killed");
    List<String> command = new java.util.ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), SaveFaults.class.getName(), SaveFaults.stallArgument(4, 60_000),
        "train", "training.output_dir=" + output, "training.steps=6", "checkpoint.interval=2"));
    command.addAll(List.of(SMALL));
    Process child = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(dir.resolve("child.log").toFile()).start();
    Path checkpoints = output.resolve("checkpoints");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!midSave(checkpoints) && System.nanoTime() < deadline && child.isAlive()) {
      Thread.sleep(50);
    }
    assertThat(midSave(checkpoints)).as(Files.readString(dir.resolve("child.log"))).isTrue();
    child.destroyForcibly().waitFor();

    assertThat(Files.readString(checkpoints.resolve(Checkpoint.LATEST)).strip()).isEqualTo("step-000002");
    assertThat(Checkpoint.load(output).state().step()).isEqualTo(2);
    MainTest.Run resumed = MainTest.run(concat(new String[] {"train", "--resume", output.toString()}));
    assertThat(resumed.exit()).as(resumed.err()).isZero();
    assertThat(resumed.out()).contains("trained steps 3-6 of 6");
  }

  /** The save of step 4 fails part-way as on a full disk: exit 1, step 2 stays the loadable latest, no temporary folder. */
  @Test
  void train_diskFullDuringSave_exits1KeepingThePreviousCheckpoint() throws IOException {
    Path output = dir.resolve("full");
    MainTest.Run r;
    try (SaveHook.Installed fullDisk = SaveHook.install(SaveFaults.diskFull(4))) {
      r = train(output, concat(SMALL, "training.steps=6", "checkpoint.interval=2"));
    }

    assertThat(r.exit()).as(r.err()).isEqualTo(Main.INTERNAL);
    Path checkpoints = output.resolve("checkpoints");
    assertThat(r.err()).contains("\nerror: checkpoint step-000004 could not be written (No space left on device); its "
        + "temporary folder was removed\nthe last good checkpoint is kept: " + checkpoints.resolve("step-000002") + "\n")
        .doesNotContain("\tat ");
    try (Stream<Path> entries = Files.list(checkpoints)) {
      assertThat(entries.map(p -> p.getFileName().toString()).sorted()).containsExactly("latest", "step-000002");
    }
    assertThat(Checkpoint.load(output).state().step()).isEqualTo(2);
    MainTest.Run resumed = MainTest.run("train", "--resume", output.toString());
    assertThat(resumed.exit()).as(resumed.err()).isZero();
    assertThat(resumed.out()).contains("trained steps 3-6 of 6");
  }

  private static boolean midSave(Path checkpoints) throws IOException {
    if (!Files.isDirectory(checkpoints)) {
      return false;
    }
    try (Stream<Path> entries = Files.list(checkpoints)) {
      return entries.anyMatch(p -> p.getFileName().toString().startsWith(".tmp-step-000004")
          && Files.exists(p.resolve("optimizer.safetensors")));
    }
  }

  private static String[] concat(String[] first, String... more) {
    return Stream.concat(Stream.of(first), Stream.of(more)).toArray(String[]::new);
  }
}
