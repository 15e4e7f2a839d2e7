package org.fastllm.cli;

import java.io.PrintWriter;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Turns SIGINT and SIGTERM into a clean stop: a JVM shutdown hook runs {@code firstSignal} (ask the training loop to
 * stop after its step, or forward the signal to the workers), then waits, up to {@link #WAIT}, until the command
 * calls {@link #finish} with its exit code, and ends the JVM with that code.
 *
 * <pre>{@code
 * // given org.fastllm.modules.train.StopRequest stop, PrintWriter err
 * try (StopOnSignal signals = StopOnSignal.install(stop::request, () -> { }, err)) {
 *   int exit = 0; // the run, stopped by stop.requested()
 *   signals.finish(exit);
 * }
 * }</pre>
 *
 * <p><b>A second signal, a second or more after the first, ends the JVM at once with 128 + its number</b> (130 for
 * SIGINT, 143 for SIGTERM), after running {@code atOnce}. One within a second is the same request: Ctrl-C in a terminal
 * reaches the {@code --nproc} launcher and its workers together, and the launcher forwards it too. The second signal
 * is caught through {@code sun.misc.Signal} where the JDK has it (module {@code jdk.unsupported}, present in every
 * full JDK); where not, the hook's bounded wait is what ends a stuck stop. A hook that times out returns, and the JVM
 * exits with the signal's code as it would without the hook.
 */
final class StopOnSignal implements AutoCloseable {
  /** A step of a large model plus its checkpoint; a scheduler that kills sooner still finds the last good one. */
  static final Duration WAIT = Duration.ofMinutes(10);
  private static final Duration SAME_REQUEST = Duration.ofSeconds(1);
  private final Runnable firstSignal;
  private final Runnable atOnce;
  private final PrintWriter err;
  private final CountDownLatch finished = new CountDownLatch(1);
  private final Thread hook = new Thread(this::onShutdown, "stop-on-signal");
  private volatile int exitCode;
  private volatile long firstSignalNanos;

  private StopOnSignal(Runnable firstSignal, Runnable atOnce, PrintWriter err) {
    this.firstSignal = firstSignal;
    this.atOnce = atOnce;
    this.err = err;
  }

  /** Installs the hook until {@link #close}. */
  static StopOnSignal install(Runnable firstSignal, Runnable atOnce, PrintWriter err) {
    StopOnSignal signals = new StopOnSignal(firstSignal, atOnce, err);
    Runtime.getRuntime().addShutdownHook(signals.hook);
    return signals;
  }

  /** The command is done with {@code code}; a hook waiting for it ends the JVM with it. */
  void finish(int code) {
    exitCode = code;
    finished.countDown();
  }

  @Override
  public void close() {
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException shuttingDown) {
      // The hook is running: it ends the JVM with the code given to finish.
    }
  }

  private void onShutdown() {
    if (finished.getCount() == 0) {
      return;
    }
    firstSignalNanos = System.nanoTime();
    catchSecondSignal();
    firstSignal.run();
    try {
      if (finished.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
        err.flush();
        System.out.flush();
        Runtime.getRuntime().halt(exitCode);
      }
      err.println("error: the stop did not finish within " + WAIT.toMinutes() + " minutes; stopping at once");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    err.flush();
    atOnce.run();
  }

  private void secondSignal(int number) {
    if (System.nanoTime() - firstSignalNanos < SAME_REQUEST.toNanos()) {
      return;
    }
    err.println();
    err.println("stopped at once by a second signal; the last checkpoint saved before it is kept");
    err.flush();
    atOnce.run();
    Runtime.getRuntime().halt(128 + number);
  }

  /** {@code sun.misc.Signal.handle(signal, s -> secondSignal(...))} for INT and TERM, by reflection if present. */
  private void catchSecondSignal() {
    try {
      Class<?> signal = Class.forName("sun.misc.Signal");
      Class<?> handler = Class.forName("sun.misc.SignalHandler");
      Method number = signal.getMethod("getNumber");
      Object proxy = Proxy.newProxyInstance(handler.getClassLoader(), new Class<?>[] {handler},
          (self, method, args) -> switch (method.getName()) {
            case "handle" -> {
              secondSignal((Integer) number.invoke(args[0]));
              yield null;
            }
            case "equals" -> self == args[0];
            case "hashCode" -> System.identityHashCode(self);
            default -> "second signal";
          });
      Method handle = signal.getMethod("handle", signal, handler);
      for (String name : List.of("INT", "TERM")) {
        handle.invoke(null, signal.getConstructor(String.class).newInstance(name), proxy);
      }
    } catch (ReflectiveOperationException | LinkageError | IllegalArgumentException | SecurityException e) {
      // No sun.misc.Signal here: the bounded wait ends a stop that does not finish.
    }
  }
}
