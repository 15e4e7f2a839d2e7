package org.fastllm.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.Reader;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.fastllm.modules.distributed.DistributedLaunch;

/**
 * {@code train --nproc N}: starts N processes of the same command on this host (same java, class path and
 * {@code -D}/{@code -X} options), as ranks 0 to N-1 of one data-parallel run meeting at a free loopback port.
 *
 * <pre>{@code
 * // given PrintWriter out, PrintWriter err
 * int exit = LocalProcesses.run(2, List.of("train", "training.steps=5"), Path.of("runs/x"), out, err);
 * }</pre>
 *
 * <p><b>Rank 0's output is forwarded; the others' goes to {@code rank-<r>.log} in the log folder. The first process
 * to fail stops the others, and its exit code is returned.</b> SIGINT or SIGTERM to this process is forwarded to every
 * process as SIGTERM (each stops after the current step, rank 0 saves a checkpoint, and all exit with
 * {@link Main#STOPPED}); a second signal, or processes not gone within {@link StopOnSignal#WAIT}, kill them. No
 * process is left running when this one exits, other than by SIGKILL.
 */
final class LocalProcesses {
  private LocalProcesses() {}

  /** What is wrong with {@code --nproc N} in this process, if anything: N below 1, or a rank of a launch already. */
  static Optional<String> problem(Integer nproc, DistributedLaunch launch) {
    if (nproc == null || (nproc >= 1 && !launch.distributed())) {
      return Optional.empty();
    }
    return Optional.of("--nproc " + nproc + (nproc < 1 ? ": must be 1 or more"
        : ": this process is already rank " + launch.rank() + " of " + launch.worldSize()
            + " (WORLD_SIZE is set); start the processes either with --nproc or with a launcher, not both"));
  }

  static int run(int processes, List<String> arguments, Path logs, PrintWriter out, PrintWriter err)
      throws IOException, InterruptedException {
    Files.createDirectories(logs);
    List<Process> children = new CopyOnWriteArrayList<>();
    AtomicBoolean stopping = new AtomicBoolean();
    Runnable forward = () -> {
      stopping.set(true);
      err.println("stopping: the signal is forwarded to the " + processes + " processes");
      err.flush();
      // SIGTERM through the handle: Process.destroy would also close the pipes, losing rank 0's summary.
      children.forEach(child -> child.toHandle().destroy());
    };
    int exit = Main.INTERNAL;
    try (StopOnSignal signals = StopOnSignal.install(forward, () -> children.forEach(LocalProcesses::kill), err)) {
      try {
        exit = runAll(processes, arguments, logs, children, stopping, out, err);
      } finally {
        children.forEach(LocalProcesses::kill);
        signals.finish(exit);
      }
    }
    return exit;
  }

  /** Starts the processes into {@code children}, each stopped at once when a signal came first, and waits for them. */
  private static int runAll(int processes, List<String> arguments, Path logs, List<Process> children,
      AtomicBoolean stopping, PrintWriter out, PrintWriter err) throws IOException, InterruptedException {
    int port = freePort();
    List<Thread> pumps = new ArrayList<>();
    for (int rank = 0; rank < processes; rank++) {
      ProcessBuilder builder = new ProcessBuilder(command(arguments));
      Map<String, String> env = builder.environment();
      env.put(DistributedLaunch.RANK, Integer.toString(rank));
      env.put(DistributedLaunch.LOCAL_RANK, Integer.toString(rank));
      env.put(DistributedLaunch.WORLD_SIZE, Integer.toString(processes));
      env.put(DistributedLaunch.MASTER_ADDR, "127.0.0.1");
      env.put(DistributedLaunch.MASTER_PORT, Integer.toString(port));
      if (rank > 0) {
        builder.redirectErrorStream(true).redirectOutput(log(logs, rank).toFile());
      }
      Process child = builder.start();
      children.add(child);
      if (stopping.get()) {
        child.destroy();
      }
      if (rank == 0) {
        pumps.add(pump(child.getInputStream(), out));
        pumps.add(pump(child.getErrorStream(), err));
      }
    }
    int exit = waitForAll(children, logs, err);
    for (Thread pump : pumps) {
      pump.join();
    }
    return exit;
  }

  private static Path log(Path logs, int rank) {
    return logs.resolve("rank-" + rank + ".log");
  }

  /**
   * Waits until all have exited 0 or {@link Main#STOPPED} (then the latter if any did), or one has failed: then the
   * others are killed and its code is returned.
   */
  private static int waitForAll(List<Process> children, Path logs, PrintWriter err) throws InterruptedException {
    while (true) {
      boolean running = false;
      boolean stopped = false;
      for (int rank = 0; rank < children.size(); rank++) {
        Process child = children.get(rank);
        if (child.isAlive()) {
          running = true;
        } else if (child.exitValue() == Main.STOPPED) {
          stopped = true;
        } else if (child.exitValue() != 0) {
          children.forEach(LocalProcesses::kill);
          err.println("error: process " + rank + " of " + children.size() + " exited with " + child.exitValue()
              + (rank == 0 ? "" : "; its output is in " + log(logs, rank)) + "; the others were stopped");
          err.flush();
          return child.exitValue();
        }
      }
      if (!running) {
        return stopped ? Main.STOPPED : Main.OK;
      }
      Thread.sleep(50);
    }
  }

  private static void kill(Process child) {
    child.descendants().forEach(ProcessHandle::destroyForcibly);
    child.destroyForcibly();
  }

  private static List<String> command(List<String> arguments) {
    List<String> command = new ArrayList<>();
    command.add(ProcessHandle.current().info().command()
        .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    // Heap and property settings carry over; agents and debugger ports would clash between the children.
    ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
        .filter(a -> a.startsWith("-D") || (a.startsWith("-X") && !a.startsWith("-Xrun") && !a.startsWith("-Xdebug")))
        .forEach(command::add);
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(Main.class.getName());
    command.addAll(arguments);
    return command;
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      socket.setReuseAddress(true);
      return socket.getLocalPort();
    }
  }

  private static Thread pump(InputStream from, PrintWriter to) {
    Thread thread = new Thread(() -> {
      try (Reader reader = new InputStreamReader(from, StandardCharsets.UTF_8)) {
        char[] buffer = new char[8192];
        for (int n; (n = reader.read(buffer)) >= 0; ) {
          synchronized (to) {
            to.write(buffer, 0, n);
            to.flush();
          }
        }
      } catch (IOException e) {
        // The child was killed; what it wrote so far has been forwarded.
      }
    }, "rank-0-output");
    thread.setDaemon(true);
    thread.start();
    return thread;
  }
}
