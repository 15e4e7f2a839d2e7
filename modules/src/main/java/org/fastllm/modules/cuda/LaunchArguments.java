package org.fastllm.modules.cuda;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.pytorch.Tensor;

/**
 * A thread's argument block for launches, allocated once: eight bytes per argument and the array of pointers to
 * them that {@code cuLaunchKernel} reads, so a launch allocates nothing.
 *
 * <pre>{@code
 * // given Tensor x
 * LaunchArguments slots = LaunchArguments.OF_THREAD.get();
 * slots.put("rotary", 0, x);
 * }</pre>
 */
final class LaunchArguments {
  static final ThreadLocal<LaunchArguments> OF_THREAD = ThreadLocal.withInitial(LaunchArguments::new);
  static final int SLOTS = 32;
  final BytePointer values = new BytePointer(8L * SLOTS);
  final PointerPointer<Pointer> pointers = new PointerPointer<>(SLOTS);

  LaunchArguments() {
    values.retainReference();   // for the thread's life, whatever scope it was first used in
    pointers.retainReference();
    for (int i = 0; i < SLOTS; i++) {
      pointers.put(i, new At(values.address() + 8L * i));
    }
  }

  /** Writes {@code argument} (a tensor's data pointer, an int, a long long or a float) into slot {@code index}. */
  void put(String kernel, int index, Object argument) {
    long at = 8L * index;
    if (argument instanceof Tensor tensor) {
      values.putLong(at, tensor.data_ptr().address());
    } else if (argument instanceof Integer number) {
      values.putInt(at, number);
    } else if (argument instanceof Long number) {
      values.putLong(at, number);
    } else if (argument instanceof Float number) {
      values.putFloat(at, number);
    } else {
      throw new IllegalArgumentException(kernel + ": argument " + index + " is "
          + (argument == null ? "null" : "a " + argument.getClass().getName())
          + "; kernels take tensors, ints, longs and floats");
    }
  }

  /** Fills the slots with {@code arguments} in order. */
  void putAll(String kernel, Object[] arguments) {
    if (arguments.length > SLOTS) {
      throw new IllegalArgumentException(kernel + ": at most " + SLOTS + " arguments");
    }
    for (int i = 0; i < arguments.length; i++) {
      put(kernel, i, arguments[i]);
    }
  }

  /** A pointer to a given address, owning nothing. */
  private static final class At extends Pointer {
    At(long address) {
      this.address = address;
    }
  }
}
