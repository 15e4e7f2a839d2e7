package org.fastllm.modules.distributed;

import org.bytedeco.javacpp.SizeTPointer;
import org.bytedeco.javacpp.chrono.Milliseconds;
import org.bytedeco.pytorch.AllreduceOptions;
import org.bytedeco.pytorch.Backend;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.ProcessGroupGloo;
import org.bytedeco.pytorch.ReduceOp;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.TCPStore;
import org.bytedeco.pytorch.TCPStoreOptions;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.nccl.ProcessGroupNCCL;

/**
 * Averages tensors over a torch.distributed process group: Gloo for CPU tensors, NCCL for CUDA ones, met through a
 * {@code TCPStore} that rank 0 serves at {@code MASTER_ADDR:MASTER_PORT}.
 *
 * <pre>{@code
 * // given DistributedLaunch launch, Device device, Tensor flatGradients
 * try (GradientSync sync = ProcessGroupSync.connect(launch, device)) {
 *   sync.average(flatGradients);  // once per step
 * }
 * }</pre>
 *
 * <p><b>An all-reduce of SUM followed by a division by the world size</b>: Gloo has no AVG.
 */
public final class ProcessGroupSync implements GradientSync {
  private static final long TIMEOUT_MS = 300_000;
  private final TCPStore store;
  private final Backend group;
  private final int worldSize;
  private final AllreduceOptions sum;

  private ProcessGroupSync(TCPStore store, Backend group, int worldSize) {
    this.store = store;
    this.group = group;
    this.worldSize = worldSize;
    this.sum = new AllreduceOptions();
    sum.reduceOp(new ReduceOp(ReduceOp.RedOpType.SUM));
  }

  /** Waits (up to 5 minutes) for every rank of {@code launch} to join, then returns the group's sync. */
  public static ProcessGroupSync connect(DistributedLaunch launch, Device device) {
    TCPStoreOptions options = new TCPStoreOptions();
    options.port((short) launch.masterPort());
    options.isServer(launch.rank() == 0);
    options.numWorkers(new SizeTPointer(1).put(launch.worldSize()));
    options.waitWorkers(false);
    options.timeout(new Milliseconds(TIMEOUT_MS));
    TCPStore store;
    try {
      store = new TCPStore(launch.masterAddress(), options);
    } catch (RuntimeException e) {
      throw new IllegalStateException("rank " + launch.rank() + " could not meet the others at "
          + launch.masterAddress() + ":" + launch.masterPort() + " (" + firstLine(e) + ")", e);
    }
    Backend group;
    if (device.is_cuda()) {
      group = new ProcessGroupNCCL(store, launch.rank(), launch.worldSize());
    } else {
      ProcessGroupGloo.Options gloo = ProcessGroupGloo.Options.create(new Milliseconds(TIMEOUT_MS));
      gloo.devices().push_back(loopback(launch.masterAddress())
          ? ProcessGroupGloo.createDeviceForHostname("127.0.0.1") : ProcessGroupGloo.createDefaultDevice());
      group = new ProcessGroupGloo(store, launch.rank(), launch.worldSize(), gloo);
    }
    return new ProcessGroupSync(store, group, launch.worldSize());
  }

  /**
   * Gloo's default device is the interface this host's name resolves to; a container's name often does not resolve,
   * and a run on one host needs only loopback.
   */
  private static boolean loopback(String address) {
    return address.equals("127.0.0.1") || address.equals("localhost");
  }

  private static String firstLine(RuntimeException e) {
    return String.valueOf(e.getMessage()).lines().findFirst().orElse("");
  }

  @Override
  public int worldSize() {
    return worldSize;
  }

  @Override
  public void average(Tensor tensor) {
    group.allreduce(new TensorVector(tensor), sum)._wait();
    tensor.div_(new Scalar((double) worldSize));
  }

  @Override
  public void close() {
    group.close();
    store.close();
  }
}
