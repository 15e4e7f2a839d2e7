package org.fastllm.modules.train;

import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.DeviceChoice;

/**
 * The device a run trains on, from {@code training.device}, and the CPU's thread count for it.
 *
 * <pre>{@code
 * // given DistributedLaunch launch
 * Device d = TrainingDevice.of(DeviceChoice.AUTO, launch.localRank());   // cuda:<local rank>, or cpu
 * }</pre>
 */
public final class TrainingDevice {
  private TrainingDevice() {}

  /** {@code auto}: CUDA when libtorch sees a GPU, else the CPU. */
  public static Device of(DeviceChoice choice) {
    return of(choice, 0);
  }

  /** As {@link #of(DeviceChoice)}, with GPU {@code cuda:localRank} for process {@code localRank} of a host. */
  public static Device of(DeviceChoice choice, int localRank) {
    boolean cuda = switch (choice) {
      case CPU -> false;
      case CUDA -> {
        if (!torch.cuda_is_available()) {
          throw new IllegalStateException("training.device is cuda, but libtorch sees no CUDA device");
        }
        yield true;
      }
      case AUTO -> torch.cuda_is_available();
    };
    return new Device(cuda ? "cuda:" + localRank : "cpu");
  }

  /**
   * One intra-op thread on machines of up to 4 cores unless OpenMP is configured: with OpenMP's default spinning
   * wait, two threads on two cores made steps about 10 times slower than one thread (measured on the built-in run).
   */
  static void limitThreadsOnSmallMachines() {
    if (System.getenv("OMP_NUM_THREADS") == null && System.getenv("OMP_WAIT_POLICY") == null
        && Runtime.getRuntime().availableProcessors() <= 4) {
      torch.set_num_threads(1);
    }
  }
}
