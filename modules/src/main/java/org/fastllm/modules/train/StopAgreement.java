package org.fastllm.modules.train;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.distributed.GradientSync;

/**
 * Whether the run stops after this step: the local {@link StopRequest}, agreed over the processes of a data-parallel
 * run. The processes are signalled one by one (a launcher forwards a signal to each), so one of them may see its
 * request a step before another; a process that stopped alone would leave the others waiting in the next step's
 * gradient average.
 */
final class StopAgreement {
  private final StopRequest request;
  private final GradientSync sync;
  private final Device device;

  StopAgreement(StopRequest request, GradientSync sync, Device device) {
    this.request = request;
    this.sync = sync;
    this.device = device;
  }

  /** True on every process when any process was asked to stop; one scalar average per step when distributed. */
  boolean stopsNow() {
    if (sync.worldSize() == 1) {
      return request.requested();
    }
    try (PointerScope scope = new PointerScope()) {
      TensorOptions options = new TensorOptions(torch.ScalarType.Float).device(new DeviceOptional(device));
      Tensor flag = request.requested() ? torch.ones(new long[] {1}, options) : torch.zeros(new long[] {1}, options);
      sync.average(flag);
      return flag.cpu().item_float() > 0;
    }
  }
}
