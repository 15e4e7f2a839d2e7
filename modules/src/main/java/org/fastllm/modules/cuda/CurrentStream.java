package org.fastllm.modules.cuda;

import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.pytorch.cuda.CUDAStream;
import org.bytedeco.pytorch.global.torch_cuda;

/**
 * The stream PyTorch computes on for a device ({@code at::cuda::getCurrentCUDAStream}), which the kernels launch
 * on so that they order with PyTorch's own kernels on any stream, not only the default one.
 *
 * <pre>{@code CUstream_st stream = CurrentStream.of(0);   // null: the legacy default stream}</pre>
 *
 * <p>The binding is in the presets' {@code torch_cuda} library ({@code libjnitorch_cuda}, with the JNI glue of the
 * CUDA libraries it names). Where that does not load, the launches go to the legacy default stream, as they always
 * did before, which is PyTorch's stream unless a caller switched it; the reason is reported once on standard error
 * and kept in {@link #fallback()}.
 */
final class CurrentStream {
  private static volatile String fallback;
  private static volatile boolean probed;

  private CurrentStream() {}

  /** PyTorch's current stream of {@code device}; null for the legacy default stream. */
  static CUstream_st of(int device) {
    if (!probed) {
      probe();
    }
    if (fallback != null) {
      return null;
    }
    try (CUDAStream current = torch_cuda.getCurrentCUDAStream((byte) device)) {
      CUstream_st stream = current.stream();   // not owned: the wrapper's closing leaves the stream alone
      return stream == null || stream.isNull() ? null : stream;
    }
  }

  private static synchronized void probe() {
    if (probed) {
      return;
    }
    try {
      torch_cuda.getCurrentCUDAStream().close();
    } catch (Throwable e) {   // UnsatisfiedLinkError and friends: libjnitorch_cuda is not on this machine
      fallback = e.getClass().getSimpleName() + ": " + e.getMessage();
      System.err.println("warning: hand-written kernels launch on the legacy default stream, not PyTorch's current"
          + " stream (its binding did not load: " + fallback + ")");
    }
    probed = true;
  }

  /** Null when launches go to PyTorch's current stream, otherwise why they go to the legacy default stream. */
  static String fallback() {
    if (!probed) {
      probe();
    }
    return fallback;
  }
}
