package org.fastllm.cli;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import org.fastllm.modules.checkpoint.SaveHook;

/**
 * Faults in the middle of a checkpoint save, as {@link SaveHook}s, and a main that runs the command line with one
 * installed: what the process-spawning tests start instead of {@link Main} when a child must crash or fail inside a
 * save.
 *
 * <pre>{@code java -cp ... org.fastllm.cli.SaveFaults stall=4:60000 train training.steps=6 ...}</pre>
 *
 * <p>A real full disk cannot be made without root (a size-limited mount), and a kill lands inside a save only by
 * luck, so the tests use these.
 */
final class SaveFaults {
  private SaveFaults() {}

  /**
   * The save of {@code step} sleeps {@code millis} after its tensors are written and before {@code state.json}, so a
   * test can kill the process in the middle of a save.
   */
  static SaveHook stall(long step, long millis) {
    return (saving, file) -> {
      if (saving == step && file.endsWith("state.json")) {
        try {
          Thread.sleep(millis);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    };
  }

  /** Every save sleeps {@code millis} before its {@code state.json}: a stop that takes a while. */
  static SaveHook stallEvery(long millis) {
    return (saving, file) -> {
      if (file.endsWith("state.json")) {
        try {
          Thread.sleep(millis);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    };
  }

  /**
   * The save of {@code step} writes the start of {@code optimizer.safetensors} and then fails as a full disk does.
   */
  static SaveHook diskFull(long step) {
    return (saving, file) -> {
      if (saving == step && file.endsWith("optimizer.safetensors")) {
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
          out.write(ByteBuffer.wrap(new byte[4096]));
        }
        throw new IOException("No space left on device");
      }
    };
  }

  /** The command-line argument that makes {@link #main} install {@link #stall}. */
  static String stallArgument(long step, long millis) {
    return "stall=" + step + ":" + millis;
  }

  /** {@code stall=STEP:MILLIS}, {@code stall-every=MILLIS} or {@code disk-full=STEP}, then the arguments of {@link Main}. */
  public static void main(String[] args) {
    SaveHook.install(parse(args[0]));
    Main.main(Arrays.copyOfRange(args, 1, args.length));
  }

  private static SaveHook parse(String fault) {
    String[] parts = fault.split("[=:]");
    return switch (parts[0]) {
      case "stall-every" -> stallEvery(Long.parseLong(parts[1]));
      case "stall" -> stall(Long.parseLong(parts[1]), Long.parseLong(parts[2]));
      case "disk-full" -> diskFull(Long.parseLong(parts[1]));
      default -> throw new IllegalArgumentException("unknown save fault '" + fault + "' (stall=STEP:MILLIS, "
          + "stall-every=MILLIS or disk-full=STEP)");
    };
  }
}
