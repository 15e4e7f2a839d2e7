package org.fastllm.modules.checkpoint;

import java.nio.file.Path;
import java.util.Base64;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * The state of libtorch's default CPU generator (dropout, initialisation) as the Base64 text that
 * {@code state.json} keeps as {@code torch_rng}, so a resumed run draws the numbers the uninterrupted one would.
 *
 * <pre>{@code
 * // given Path folder
 * String saved = RngState.capture();                      // at a save
 * RngState.restore(saved, folder.resolve("state.json"));  // at a resume
 * }</pre>
 */
public final class RngState {
  private RngState() {}

  /** The default CPU generator's state now, as Base64 text. */
  public static String capture() {
    try (PointerScope scope = new PointerScope()) {
      // The generator state is a fresh contiguous byte tensor; no intermediate handle to keep alive.
      Tensor state = torch.getDefaultCPUGenerator().get_state();
      byte[] bytes = new byte[Math.toIntExact(state.nbytes())];
      new BytePointer(state.data_ptr()).capacity(bytes.length).get(bytes);
      return Base64.getEncoder().encodeToString(bytes);
    }
  }

  /**
   * Sets the default CPU generator to {@code base64}, a state {@link #capture} wrote.
   *
   * @param file where the text was read, for the message
   * @throws CheckpointException naming {@code file} where the text is not such a state
   */
  public static void restore(String base64, Path file) {
    try {
      byte[] bytes = Base64.getDecoder().decode(base64);
      Tensor rng = torch.empty(new long[] {bytes.length}, new TensorOptions(torch.ScalarType.Byte),
          new MemoryFormatOptional());
      new BytePointer(rng.data_ptr()).capacity(bytes.length).put(bytes);
      torch.getDefaultCPUGenerator().set_state(rng);
    } catch (RuntimeException e) {
      // libtorch refuses a state of the wrong size; Base64 refuses a damaged text.
      throw new CheckpointException(file + ": torch_rng is not a libtorch CPU generator state ("
          + String.valueOf(e.getMessage()).lines().findFirst().orElse("") + ")", e);
    }
  }
}
