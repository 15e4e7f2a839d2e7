package org.fastllm.cli;

import java.io.PrintWriter;
import java.util.Optional;
import org.fastllm.dsl.kind.PluginConflictException;
import org.fastllm.dsl.problem.InvalidConfigException;
import org.fastllm.dsl.problem.Problem;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code fastllm-cli} command: train, evaluate, validate, describe, migrate and export the schema of block-modular configs.
 *
 * <pre>{@code java -jar fastllm-cli.jar describe model.yaml}</pre>
 *
 * <p><b>Exit codes:</b> 0 success, 2 invalid config, data, checkpoint or wrong usage, 3 training diverged,
 * 1 internal failure, a file {@code train} could not write (a full disk) or a run libtorch refused (its memory does
 * not fit: the first line of libtorch's message and a hint; its native frames only with {@code --debug}), 4 {@code train} stopped by SIGINT or
 * SIGTERM after saving a checkpoint (a second signal stops at once, with 130 or 143). Bad input never prints a
 * stack trace; {@code --debug} does.
 */
@Command(
    name = "fastllm-cli",
    mixinStandardHelpOptions = true,
    versionProvider = BuildVersion.class,
    description = "Declare language models as stacks of named blocks, check them, look at them, train them, "
        + "evaluate them, generate text.",
    subcommands = {TrainCommand.class, EvalCommand.class, GenerateCommand.class, ValidateCommand.class,
        DescribeCommand.class, MigrateCommand.class, SchemaCommand.class,
        org.fastllm.cli.interop.ImportCommand.class, org.fastllm.cli.interop.ExportCommand.class,
        CommandLine.HelpCommand.class},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:success", "1:internal failure (a bug: please report it with --debug output), train could "
        + "not write a file (disk full; the last good checkpoint is kept), or libtorch refused the run (its memory)",
        "2:invalid config, data, checkpoint or wrong usage", "3:train: the loss diverged (NaN or infinite)",
        "4:train: stopped by SIGINT or SIGTERM after the current step; its checkpoint was saved (resume it)",
        "130/143:stopped at once by a second SIGINT/SIGTERM (or before training began); nothing more saved"})
public final class Main implements Runnable {
  public static final int OK = 0;
  /** An internal failure (a bug), or an environment failure such as a full disk while saving a checkpoint. */
  public static final int INTERNAL = 1;
  public static final int INVALID = 2;
  /** {@code train} stopped because the loss or gradient norm became NaN or infinite. */
  public static final int DIVERGED = 3;
  /**
   * {@code train} was asked to stop by SIGINT or SIGTERM and did so cleanly: the step finished and its checkpoint was
   * saved. Not 0, which would tell a scheduler the run is complete, and not 130/143, which keep meaning "killed at
   * once, nothing more saved" (a second signal, or one before the first step).
   */
  public static final int STOPPED = 4;

  @Option(names = "--debug", scope = CommandLine.ScopeType.INHERIT,
      description = "Print stack traces of failures.")
  boolean debug;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** Kept so the setting is not collected: the validator library logs its version at INFO otherwise. */
  private static final java.util.logging.Logger QUIET_VALIDATOR = quiet("org.hibernate.validator");

  private static java.util.logging.Logger quiet(String name) {
    java.util.logging.Logger logger = java.util.logging.Logger.getLogger(name);
    logger.setLevel(java.util.logging.Level.WARNING);
    return logger;
  }

  public static void main(String[] args) {
    nativeDefaults();
    System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
  }

  /**
   * Turns off JavaCPP's physical-memory check unless the user set it ({@code -Dorg.bytedeco.javacpp.maxPhysicalBytes}):
   * it reads the process's resident size for every native object made, about one per tensor operation, which cost a
   * fifth of the host's time per training step ({@code bench/host-overhead.sh}); pointer scopes free the native memory
   * of each step anyway. Runs before any JavaCPP class loads, which reads the setting once.
   */
  static void nativeDefaults() {
    if (System.getProperty(MAX_PHYSICAL_BYTES) == null) {
      System.setProperty(MAX_PHYSICAL_BYTES, "0");
    }
  }

  static final String MAX_PHYSICAL_BYTES = "org.bytedeco.javacpp.maxPhysicalBytes";

  /** Runs the command line with the given streams and returns the exit code. */
  public static int run(String[] args, PrintWriter out, PrintWriter err) {
    Main main = new Main();
    CommandLine cli = new CommandLine(main);
    cli.setOut(out).setErr(err);
    cli.setExecutionExceptionHandler((e, line, parsed) -> handle(e, main.debug, err));
    try {
      return cli.execute(args);
    } catch (OutOfMemoryError e) {
      err.println("error: out of memory (" + e.getMessage() + "); the config asks for more than this JVM may hold"
          + " (raise it with java -Xmx...)");
      return INTERNAL;
    } catch (Error e) {
      err.println("internal error: " + e + (main.debug ? "" : " (run with --debug for the stack trace)"));
      if (main.debug) {
        e.printStackTrace(err);
      }
      return INTERNAL;
    }
  }

  static int handle(Exception e, boolean debug, PrintWriter err) {
    if (e instanceof InvalidConfigException invalid) {
      invalid.problems().stream().map(Problem::render).forEach(err::println);
      long errors = invalid.errors().size();
      err.println(errors + " error" + (errors == 1 ? "" : "s"));
      return INVALID;
    }
    if (e instanceof PluginConflictException conflict) {
      err.println("error: " + conflict.getMessage());
      return INVALID;
    }
    Optional<String> nativeLine = NativeFailure.firstLine(e);
    if (nativeLine.isPresent()) {
      err.println("error: " + nativeLine.get());
      err.println(NativeFailure.hint(nativeLine.get()) + (debug ? "" : " (--debug prints libtorch's native frames)"));
      if (debug) {
        e.printStackTrace(err);
      }
      return INTERNAL;
    }
    err.println("internal error: " + e + (debug ? "" : " (run with --debug for the stack trace)"));
    if (debug) {
      e.printStackTrace(err);
    }
    return INTERNAL;
  }
}
