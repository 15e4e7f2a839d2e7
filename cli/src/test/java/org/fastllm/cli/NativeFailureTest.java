package org.fastllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;

class NativeFailureTest {
  static final String ALLOC = "[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: can't allocate memory:"
      + " you tried to allocate 32985348833280 bytes. Error code 12 (Cannot allocate memory)";
  static final String LIBTORCH_MESSAGE = ALLOC + "\nException raised from alloc_cpu at /pytorch/c10/core/impl/"
      + "alloc_cpu.cpp:117 (most recent call first):\nframe #0: c10::Error::Error(...) + 0x98 (0x7f in libc10.so)\n"
      + "frame #1: c10::alloc_cpu(unsigned long) + 0x3c1 (0x7f in libc10.so)\n";

  @Command(name = "throwing")
  static final class Throwing implements Runnable {
    @Override
    public void run() {
      throw new RuntimeException(LIBTORCH_MESSAGE);
    }
  }

  @Test
  void firstLine_ofALibtorchMessage_isItsFirstLineWithoutFrames() {
    assertThat(NativeFailure.firstLine(new RuntimeException(LIBTORCH_MESSAGE))).hasValue(ALLOC);
    assertThat(NativeFailure.firstLine(new IllegalStateException("wrapped", new RuntimeException(
        "num_layers must be positive\nException raised from check at x.cpp:1 (most recent call first):\nframe #0: f")))
    ).hasValue("num_layers must be positive");
    assertThat(NativeFailure.firstLine(new RuntimeException("a bug of ours"))).isEmpty();
  }

  @Test
  void hint_forAnAllocationFailure_pointsAtTheModelSize() {
    assertThat(NativeFailure.hint(ALLOC)).startsWith("the model does not fit in this device's memory; see "
        + "fastllm-cli describe for its size");
    assertThat(NativeFailure.hint("shape '[2, 3]' is invalid")).contains("--debug");
  }

  @Test
  void main_libtorchFailure_printsOneErrorLineAndAHint_framesOnlyWithDebug() {
    StringWriter err = new StringWriter();
    int exit = runThrowing(err, "throwing");

    assertThat(exit).isEqualTo(Main.INTERNAL);
    assertThat(err.toString()).isEqualTo("error: " + ALLOC + System.lineSeparator()
        + NativeFailure.hint(ALLOC) + " (--debug prints libtorch's native frames)" + System.lineSeparator());

    StringWriter debugErr = new StringWriter();
    assertThat(runThrowing(debugErr, "--debug", "throwing")).isEqualTo(Main.INTERNAL);
    assertThat(debugErr.toString()).startsWith("error: " + ALLOC).contains("frame #1: c10::alloc_cpu");
  }

  /** Main's handling of a failure, with a subcommand that throws what JavaCPP throws for a c10::Error. */
  private static int runThrowing(StringWriter err, String... args) {
    Main main = new Main();
    CommandLine cli = new CommandLine(main).addSubcommand(new Throwing());
    PrintWriter errWriter = new PrintWriter(err, true);
    cli.setErr(errWriter);
    cli.setExecutionExceptionHandler((e, line, parsed) -> Main.handle(e, main.debug, errWriter));
    return cli.execute(args);
  }
}
