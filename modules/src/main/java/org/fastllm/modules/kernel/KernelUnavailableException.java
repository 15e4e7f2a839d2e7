package org.fastllm.modules.kernel;

/**
 * A kernel chosen {@code on} in {@code training.kernels} that cannot run where the model runs: the user's choice,
 * not an internal failure, so the command line reports it as an error in the config.
 *
 * <pre>{@code
 * // given Trainer trainer, Trainer.Listener listener, PrintWriter err
 * try {
 *   trainer.run(listener);
 * } catch (KernelUnavailableException e) {
 *   err.println("error: " + e.getMessage());   // training.kernels.scan is on, but the scan kernel cannot run here: ...
 * }
 * }</pre>
 */
public final class KernelUnavailableException extends IllegalStateException {
  private static final long serialVersionUID = 1L;
  private final String key;
  private final String reason;

  public KernelUnavailableException(String key, String reason) {
    super("training.kernels." + key + " is on, but the " + key + " kernel cannot run here: " + reason
        + "; set it to auto or off");
    this.key = key;
    this.reason = reason;
  }

  /** The key under {@code training.kernels}: {@code norm}, {@code loss}, {@code scan}, {@code rotary}. */
  public String key() {
    return key;
  }

  /** Why the kernel cannot run (the CPU, no NVRTC, a failed compile, a shape or type it does not take). */
  public String reason() {
    return reason;
  }
}
