package org.fastllm.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.fastllm.dsl.bind.ConfigMapper;
import org.fastllm.dsl.config.ConfigDocument;
import org.fastllm.dsl.problem.Problem;
import org.fastllm.dsl.yaml.ConfigOverrides;
import org.fastllm.dsl.yaml.YamlDocument;
import org.fastllm.dsl.yaml.YamlTreeReader;
import org.fastllm.validation.rules.ArchitectureCheck;
import org.fastllm.modules.checkpoint.Checkpoint;
import org.fastllm.modules.checkpoint.CheckpointException;
import org.fastllm.modules.checkpoint.InitialWeights;
import org.fastllm.modules.distributed.BatchShare;
import org.fastllm.modules.distributed.DistributedLaunch;
import org.fastllm.modules.kernel.KernelUnavailableException;
import org.fastllm.modules.train.StopRequest;
import org.fastllm.modules.train.Trainer;
import org.fastllm.modules.train.TrainingDevice;
import org.fastllm.modules.data.TokenizationProgress;
import org.fastllm.modules.data.TrainingData;
import org.fastllm.modules.train.TrainingDivergedException;
import org.fastllm.validation.load.ConfigLoader;
import org.fastllm.validation.load.LoadedConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code train [--config RUN.yaml] [--resume DIR [--allow-changes] | --init-from DIR [--init-from-partial]] [--overwrite]
 * [--device auto|cpu|cuda] [--nproc N] [--dry-run] [key=value ...]}:
 * trains a model; with no arguments, a small built-in hybrid model on a built-in corpus, on the CPU, in about a minute.
 *
 * <p>Data parallel: started by torchrun or SLURM with {@code RANK}, {@code WORLD_SIZE}, {@code LOCAL_RANK},
 * {@code MASTER_ADDR} and {@code MASTER_PORT} set, each process trains on its share of every batch; {@code --nproc N}
 * starts N such processes on this host itself.
 *
 * <p>About 400 lines on purpose: the options and the order of the checks before a run (launch, checkpoint,
 * config, memory, {@code --dry-run}'s stop, output folder, data, model) read best in one place; what it prints is
 * {@link RunReport}'s and {@link DryRun}'s, the folder {@link RunFolder}'s, the launcher {@link LocalProcesses}'.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
    description = {"Train a model. With no arguments: a small built-in hybrid model on a built-in corpus (CPU).",
        "Writes metrics.jsonl, loss.png and checkpoints/ under training.output_dir.",
        "Exit codes: 0 done, 2 invalid config, data or checkpoint, 3 the loss diverged (NaN or infinite), "
            + "1 internal failure or a file could not be written (disk full: the last good checkpoint is kept), "
            + "4 stopped by SIGINT or SIGTERM after saving a checkpoint (resume it with --resume; a second signal "
            + "stops at once: 130 or 143)."})
final class TrainCommand implements Callable<Integer> {

  @Option(names = "--config", paramLabel = "FILE",
      description = "Run config: model, data, optimizer, training and checkpoint sections (default: the built-in run, "
          + "or the resumed checkpoint's config).")
  Path config;

  @Option(names = "--resume", paramLabel = "DIR",
      description = "Continue from a checkpoint folder, a checkpoints folder (its 'latest') or a run folder.")
  Path resume;

  @Option(names = "--init-from", paramLabel = "DIR",
      description = "Start a fresh run (new optimizer, step 0) from the weights of a checkpoint folder, a run folder "
          + "(its latest checkpoint) or an imported-model folder (config.yaml and model.safetensors); its config is "
          + "the default config. A model that differs from the run's config is refused, the differences listed.")
  Path initFrom;

  @Option(names = "--init-from-partial",
      description = "With --init-from: take every tensor whose name and shape match, initialise the others fresh "
          + "and list them per layer (e.g. a pretrained model whose every other block became another kind).")
  boolean initFromPartial;

  @Option(names = "--overwrite",
      description = "Replace the run in an explicitly named training.output_dir: its metrics.jsonl, loss.png and "
          + "checkpoints/ are deleted first (without it, such a folder is refused).")
  boolean overwrite;

  @Option(names = "--allow-changes",
      description = "With --resume: accept settings that differ from the checkpoint's run and break an exact resume "
          + "(batch, sequence length, seed, data, precision, optimizer and schedule); each difference is printed "
          + "either way.")
  boolean allowChanges;

  @Option(names = "--device", paramLabel = "DEVICE", description = "auto, cpu or cuda (sets training.device).")
  String device;

  @Option(names = "--nproc", paramLabel = "N",
      description = "Data parallel on this host: start N processes of this command, each training on "
          + "training.batch_size / N sequences of every batch (default 1). Rank 0 writes the files; the others log to "
          + "rank-<r>.log in training.output_dir.")
  Integer nproc;

  @Option(names = "--dry-run",
      description = "Check the config, the checkpoint and the memory estimate, print the estimate and what the run "
          + "would do (device, steps, output folder), and exit without building the model or writing any file. "
          + "The data files are not read.")
  boolean dryRun;

  @Option(names = "--no-sample",
      description = "Do not end the run with the short greedy sample of the trained model (two lines after the "
          + "summary).")
  boolean noSample;

  @Parameters(paramLabel = "KEY=VALUE", arity = "0..*",
      description = "Dotted settings applied over the config, e.g. training.steps=200 optimizer.learning_rate=1e-3")
  List<String> settings = new ArrayList<>();

  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  /** The weights of {@code --init-from}, read before the config (which defaults to theirs). */
  private Optional<InitialWeights> initial = Optional.empty();

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    List<String> all = new ArrayList<>(settings);
    if (device != null) {
      all.add("training.device=" + device.toLowerCase(Locale.ROOT));
    }
    DistributedLaunch launch;
    try {
      launch = DistributedLaunch.fromEnvironment(System.getenv());
    } catch (IllegalArgumentException e) {
      err.println("error: " + e.getMessage());
      return Main.INVALID;
    }
    Optional<String> badNproc = LocalProcesses.problem(nproc, launch);
    if (badNproc.isPresent()) {
      err.println("error: " + badNproc.get());
      return Main.INVALID;
    }
    ConfigOverrides overrides = ConfigOverrides.parse(all);
    ConfigLoader loader = ConfigLoader.standard();
    Optional<Checkpoint.Loaded> checkpoint;
    try {
      checkpoint = Optional.ofNullable(resume).map(Checkpoint::load);
    } catch (CheckpointException e) {
      return RunReport.checkpointRefused(e, resume, err);
    }
    try {
      initial = initialWeights();
    } catch (CheckpointException | IllegalArgumentException e) {
      err.println("error: " + e.getMessage());
      return Main.INVALID;
    }
    if (launch.writesFiles()) {
      checkpoint.ifPresent(c -> err.println("resuming from " + c.folder() + " at step " + c.state().step()));
    }
    LoadedConfig loaded = loader.load(source(checkpoint), overrides);
    List<String> absolute = DataPaths.absolute(loaded.resolved().withRunDefaults().data());
    if (!absolute.isEmpty()) {
      all.addAll(absolute);
      overrides = ConfigOverrides.parse(all);
      loaded = loader.load(source(checkpoint), overrides);
    }
    ConfigDocument run = loaded.resolved().withRunDefaults();
    // a run section the file leaves out gets its defaults only here: the rules that span sections see them too
    loader.check(run);
    int local = nproc != null && nproc > 1 ? nproc : 1;
    int processes = local > 1 ? local : launch.worldSize();
    Optional<String> tooLarge = MemoryEstimate.refusal(loaded.count(), run, processes, local, launch.localRank());
    if (tooLarge.isPresent()) {
      err.println("error: " + tooLarge.get());
      return Main.INVALID;
    }
    if (dryRun) {
      return dryRun(checkpoint, loader, loaded, run, overrides, launch, processes, out, err);
    }
    RunFolder folder;
    try {
      folder = claimRunFolder(loaded, overrides, launch, err);
    } catch (RunFolderException e) {
      loaded.warnings().stream().map(Problem::render).forEach(err::println);
      err.println("error: " + e.getMessage());
      return Main.INVALID;
    }
    if (folder != null && folder.moved()) {
      err.println(run.training().outputDir() + " holds another run; this run writes to " + folder.path());
      List<String> moved = new ArrayList<>(all);
      moved.add("training.output_dir='" + folder.path().toString().replace("'", "''") + "'");
      loaded = loader.load(source(checkpoint), ConfigOverrides.parse(moved));
      run = loaded.resolved().withRunDefaults();
    }
    loaded.warnings().stream().map(Problem::render).forEach(err::println);
    try (folder) {
      return start(checkpoint, loader, run, launch, out, err);
    }
  }


  /**
   * Rank 0's (or the launcher's) claim on {@code training.output_dir}; null on the other ranks, which write nothing.
   * The folder was named when the file or the command line sets the key; the built-in run's is the default.
   */
  private RunFolder claimRunFolder(LoadedConfig loaded, ConfigOverrides overrides, DistributedLaunch launch,
      PrintWriter err) {
    if (!launch.writesFiles()) {
      return null;
    }
    if (overwrite && resume != null) {
      throw new RunFolderException("--overwrite with --resume: a resumed run continues its folder; give one of them");
    }
    return RunFolder.claim(Path.of(loaded.resolved().withRunDefaults().training().outputDir()),
        namedFolder(loaded, overrides), reuse(), err);
  }

  private boolean namedFolder(LoadedConfig loaded, ConfigOverrides overrides) {
    return overrides.sets("training.output_dir")
        || (config != null && loaded.written().training() != null && loaded.written().training().outputDir() != null);
  }

  private RunFolder.Reuse reuse() {
    return resume != null ? RunFolder.Reuse.RESUME : overwrite ? RunFolder.Reuse.OVERWRITE : RunFolder.Reuse.REFUSE;
  }

  /** {@code --dry-run}: the checks of {@link #start} that need no model, then {@link DryRun}'s report. */
  private int dryRun(Optional<Checkpoint.Loaded> checkpoint, ConfigLoader loader, LoadedConfig loaded,
      ConfigDocument run, ConfigOverrides overrides, DistributedLaunch launch, int processes, PrintWriter out,
      PrintWriter err) {
    loaded.warnings().stream().map(Problem::render).forEach(err::println);
    if (overwrite && resume != null) {
      err.println("error: --overwrite with --resume: a resumed run continues its folder; give one of them");
      return Main.INVALID;
    }
    Optional<Integer> refused = resumeRefused(checkpoint, loader, run, launch, err);
    if (refused.isPresent()) {
      return refused.get();
    }
    Optional<String> unshareable = BatchShare.problem(run.training().batchSize(), processes);
    if (unshareable.isPresent()) {
      err.println("error: " + unshareable.get());
      return Main.INVALID;
    }
    String device;
    try {
      device = TrainingDevice.of(run.training().device(), launch.localRank()).str().getString();
    } catch (IllegalStateException e) {
      err.println("error: " + e.getMessage());
      return Main.INVALID;
    }
    long fromStep = checkpoint.map(c -> c.state().step()).orElse(0L);
    return DryRun.print(loaded.count(), run, device, processes, fromStep, namedFolder(loaded, overrides), reuse(),
        out, err);
  }

  /**
   * The launcher of {@code --nproc} reads the data before it starts the processes: a problem with it is reported
   * once, and a text file is tokenized once into its token cache, which every process then maps.
   */
  private static Optional<Integer> readDataOnce(ConfigDocument run, PrintWriter err) throws IOException {
    try {
      TrainingData.load(run.data(), run.model().vocabSize(), BuiltInRun::corpus,
          new TokenizationBar(err, System.console() != null));
      return Optional.empty();
    } catch (NoSuchFileException e) {
      err.println("error: " + e.getFile() + ": no such file");
      return Optional.of(Main.INVALID);
    } catch (IllegalArgumentException | IllegalStateException e) {
      err.println("error: " + e.getMessage());
      return Optional.of(Main.INVALID);
    }
  }

  private int start(Optional<Checkpoint.Loaded> checkpoint, ConfigLoader loader,
      ConfigDocument run, DistributedLaunch launch, PrintWriter out, PrintWriter err) throws Exception {
    String yaml = ConfigMapper.yaml(loader.kinds()).writeValueAsString(run);
    Optional<Integer> refused = resumeRefused(checkpoint, loader, run, launch, err);
    if (refused.isPresent()) {
      return refused.get();
    }
    if (nproc != null && nproc > 1) {
      Optional<String> unshareable = BatchShare.problem(run.training().batchSize(), nproc);
      if (unshareable.isPresent()) {
        err.println("error: " + unshareable.get());
        return Main.INVALID;
      }
      Optional<Integer> unreadable = readDataOnce(run, err);
      if (unreadable.isPresent()) {
        return unreadable.get();
      }
      return LocalProcesses.run(nproc, childArguments(run), Path.of(run.training().outputDir()), out, err);
    }
    Trainer trainer;
    TrainingData data;
    try {
      data = TrainingData.load(run.data(), run.model().vocabSize(), BuiltInRun::corpus, launch.writesFiles()
          ? new TokenizationBar(err, System.console() != null) : TokenizationProgress.SILENT);
      trainer = Trainer.create(run, yaml, data, checkpoint, launch);
      if (initial.isPresent()
          && !InitFrom.apply(initial.get(), trainer, run, loader, initFromPartial, launch.writesFiles(), err)) {
        trainer.close();
        return Main.INVALID;
      }
    } catch (NoSuchFileException e) {
      err.println("error: " + e.getFile() + ": no such file" + (e.getReason() == null ? "" : " (" + e.getReason()
          + ")"));
      return Main.INVALID;
    } catch (CheckpointException e) {
      return RunReport.checkpointRefused(e, resume, err);
    } catch (IllegalArgumentException | IllegalStateException e) {
      err.println("error: " + e.getMessage());
      return Main.INVALID;
    }
    StopRequest stop = new StopRequest();
    try (StopOnSignal signals = StopOnSignal.install(() -> RunReport.stopping(stop, err), () -> { }, err)) {
      int exit = Main.INTERNAL;
      try (trainer) {
        exit = train(trainer, run, data, launch, stop, out, err);
      } finally {
        signals.finish(exit);
      }
      return exit;
    }
  }

  /** The exit code where a resumed checkpoint holds another model, has no step left or changes are refused. */
  private Optional<Integer> resumeRefused(Optional<Checkpoint.Loaded> checkpoint, ConfigLoader loader,
      ConfigDocument run, DistributedLaunch launch, PrintWriter err) {
    if (checkpoint.isEmpty()) {
      return Optional.empty();
    }
    Checkpoint.Loaded saved = checkpoint.get();
    LoadedConfig then = loader.load(saved.folder().resolve("config.yaml").toString(), saved.configYaml());
    List<String> thenAbsolute = DataPaths.absolute(then.resolved().withRunDefaults().data());
    if (!thenAbsolute.isEmpty()) {
      // a checkpoint written before data paths were stored absolute: its relative paths, resolved as this run's
      then = loader.load(new YamlTreeReader().read(saved.folder().resolve("config.yaml").toString(),
          saved.configYaml()), ConfigOverrides.parse(thenAbsolute));
    }
    List<String> differences = ArchitectureCheck.differences(then.model(), run.model(), loader.kinds());
    if (!differences.isEmpty()) {
      err.println("error: checkpoint " + saved.folder() + " holds a different model than the config:");
      differences.forEach(d -> err.println("  " + d));
      return Optional.of(Main.INVALID);
    }
    Optional<String> nothingLeft = ResumeChanges.nothingLeft(run.training().steps(), saved.state().step(),
        saved.folder());
    if (nothingLeft.isPresent()) {
      err.println("error: " + nothingLeft.get());
      return Optional.of(Main.INVALID);
    }
    return refusedChanges(then.resolved().withRunDefaults(), run, loader, launch, err)
        ? Optional.of(Main.INVALID) : Optional.empty();
  }

  /**
   * Reports every run setting that differs from the checkpoint's (rank 0 only) and whether those that break an exact
   * resume are refused (without {@code --allow-changes}).
   */
  private boolean refusedChanges(ConfigDocument then, ConfigDocument run, ConfigLoader loader,
      DistributedLaunch launch, PrintWriter err) {
    List<ResumeChanges.Change> changes = ResumeChanges.between(then, run, ConfigMapper.json(loader.kinds()));
    if (launch.writesFiles()) {
      changes.forEach(c -> err.println(c.render()));
    }
    List<String> breaking = changes.stream().filter(ResumeChanges.Change::breaksExactResume)
        .map(ResumeChanges.Change::key).toList();
    if (breaking.isEmpty() || allowChanges) {
      return false;
    }
    err.println("error: --resume: " + String.join(", ", breaking) + (breaking.size() == 1 ? " changes" : " change")
        + " how the run trains, so it would not continue exactly as the checkpoint's run; give --allow-changes to "
        + "resume with " + (breaking.size() == 1 ? "it" : "them") + " anyway");
    return true;
  }

  private int train(Trainer trainer, ConfigDocument run, TrainingData data, DistributedLaunch launch, StopRequest stop,
      PrintWriter out, PrintWriter err) {
    if (launch.writesFiles()) {
      RunReport.banner(err, trainer, data, launch);
      trainer.scheduleChange().ifPresent(err::println);
    }
    Trainer.Listener progress = launch.writesFiles() ? new KernelNotice(trainer::kernels, err,
        new ProgressBar(err, System.console() != null, run.training().logInterval())) : report -> { };
    Trainer.Result result;
    try {
      result = trainer.run(progress, stop);
    } catch (TrainingDivergedException e) {
      err.println();
      err.println("error: " + e.getMessage());
      err.println(RunReport.lastGoodCheckpoint(run));
      return Main.DIVERGED;
    } catch (IllegalArgumentException | KernelUnavailableException e) {
      err.println("error: " + e.getMessage());
      return Main.INVALID;
    } catch (IOException e) {
      // A full disk or a lost mount: the environment failed, not the config; the run can be resumed elsewhere.
      err.println();
      err.println("error: " + WritableFiles.why(e, Path.of(run.training().outputDir())));
      err.println(RunReport.lastGoodCheckpoint(run));
      return Main.INTERNAL;
    }
    int exit = result.stopped() ? Main.STOPPED : Main.OK;
    if (!launch.writesFiles()) {
      return exit;
    }
    Path metrics = result.output().resolve("metrics.jsonl");
    Path png = result.output().resolve("loss.png");
    // A stopped run is inside the JVM's shutdown, where the chart library cannot start (it adds a shutdown hook).
    boolean drawn = !result.stopped() && RunReport.drawLossCurve(metrics, png, err);
    RunReport.summary(out, result, metrics, drawn ? png : null);
    if (!result.stopped() && !noSample) {
      TrainedSample.print(trainer.model(), trainer.deviceUsed(), run, data, out);
    }
    out.flush();
    return exit;
  }

  /**
   * This command for the processes of {@code --nproc}: everything but {@code --nproc} and {@code --overwrite}, with
   * the run folder the launcher holds.
   */
  private List<String> childArguments(ConfigDocument run) {
    List<String> args = new ArrayList<>(List.of("train"));
    if (config != null) {
      args.addAll(List.of("--config", config.toString()));
    }
    if (resume != null) {
      args.addAll(List.of("--resume", resume.toString()));
    }
    if (allowChanges) {
      args.add("--allow-changes");
    }
    if (initFrom != null) {
      args.addAll(List.of("--init-from", initFrom.toString()));
    }
    if (initFromPartial) {
      args.add("--init-from-partial");
    }
    if (device != null) {
      args.addAll(List.of("--device", device));
    }
    if (noSample) {
      args.add("--no-sample");
    }
    args.addAll(settings);
    args.add("training.output_dir='" + run.training().outputDir().replace("'", "''") + "'");
    return args;
  }


  private Optional<InitialWeights> initialWeights() {
    if (initFrom == null) {
      if (initFromPartial) {
        throw new IllegalArgumentException("--init-from-partial needs --init-from DIR");
      }
      return Optional.empty();
    }
    if (resume != null) {
      throw new IllegalArgumentException("--init-from with --resume: a resumed run continues its checkpoint, "
          + "--init-from starts a fresh run from one; give one of them");
    }
    return Optional.of(InitialWeights.read(initFrom));
  }

  private YamlDocument source(Optional<Checkpoint.Loaded> checkpoint) {
    YamlTreeReader reader = new YamlTreeReader();
    if (config != null) {
      return reader.read(config);
    }
    if (checkpoint.isPresent()) {
      return reader.read(checkpoint.get().folder().resolve("config.yaml").toString(), checkpoint.get().configYaml());
    }
    if (initial.isPresent()) {
      return reader.read(initial.get().folder().resolve("config.yaml").toString(), initial.get().configYaml());
    }
    return reader.read("built-in run (" + BuiltInRun.CONFIG + ")", BuiltInRun.config());
  }

}
