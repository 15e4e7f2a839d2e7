package org.fastllm.modules.kernel;

import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.GradMode;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.KernelChoice;
import org.fastllm.modules.autograd.BackwardTape;

/**
 * What every hand-written kernel feature (norm, loss, scan, rotary, the optimizer's copy update) does around its
 * kernels: decide per call between the kernel and tensor operations as {@code training.kernels} says, with the
 * reason recorded in the model's {@link KernelReport}; allocate the outputs on the input's device; attach the
 * backward to the output through the model's {@link BackwardTape}.
 *
 * <pre>{@code
 * // given KernelFeature feature, Supplier<String> unavailable, Tensor logits, Tensor targets, Tensor loss, Tensor saved
 * if (feature.runs(unavailable)) {   // unavailable: the reason the kernel cannot run here, or null
 *   Tensor rowLoss = KernelFeature.empty(logits, torch.ScalarType.Float, logits.size(0));
 *   // ... the kernel fills rowLoss; loss is their mean ...
 *   loss = feature.attach(loss, List.of(logits), List.of(saved), dy -> new Tensor[] {dy});
 * } else {
 *   loss = torch.cross_entropy_loss(logits, targets);
 * }
 * }</pre>
 *
 * <p><b>{@code off} always takes tensor operations; {@code auto} the kernel wherever it can run; {@code on} the
 * kernel, and where it cannot run a {@link KernelUnavailableException} naming the key and the reason.</b> The
 * choices are the training step's: where no gradients are recorded (validation, {@code eval}, {@code generate}, the
 * sample that ends a run, any of them outside the step's bf16 autocast) {@code on} falls back like {@code auto}, so a
 * run that trained with its kernels is not stopped by the evaluation after it.
 */
public final class KernelFeature {
  private final String key;
  private final KernelChoice choice;
  private final KernelReport report;
  private final BackwardTape tape;

  /** A feature of {@code key} ({@code norm}, {@code scan}, ...) chosen {@code choice}; {@code tape} null for one with no backward. */
  public KernelFeature(String key, KernelChoice choice, KernelReport report, BackwardTape tape) {
    this.key = Objects.requireNonNull(key);
    this.choice = Objects.requireNonNull(choice, () -> "training.kernels." + key + " must be resolved");
    this.report = Objects.requireNonNull(report);
    this.tape = tape;
  }

  /** The key under {@code training.kernels}. */
  public String key() {
    return key;
  }

  public KernelChoice choice() {
    return choice;
  }

  /**
   * Whether this call takes the kernel; {@code unavailable} says why the kernel cannot run for it here (the CPU,
   * no NVRTC, a failed compile, a shape or type it does not take), or returns null where it can. Not asked when the
   * choice is {@code off}.
   *
   * @throws KernelUnavailableException when the choice is {@code on}, the kernel cannot run and gradients are
   *     recorded
   */
  public boolean runs(Supplier<String> unavailable) {
    if (choice == KernelChoice.OFF) {
      report.record(key, "tensor operations (off in training.kernels)");
      return false;
    }
    String reason = unavailable.get();
    if (reason == null) {
      report.record(key, KernelReport.KERNEL);
      return true;
    }
    if (choice == KernelChoice.ON && GradMode.is_enabled()) {
      throw new KernelUnavailableException(key, reason);
    }
    report.record(key, "tensor operations (" + reason + ")");
    return false;
  }

  /**
   * Records what ran for a part of the feature that has a kernel of its own ({@code part} names it, e.g. "the D skip
   * and silu(z) gate"): the kernel where {@code reason} is null, else the tensor operations with the part and the
   * reason; returns whether the kernel runs. Never stops the run, whatever the choice: {@code on} asks for the
   * feature's own kernel.
   */
  public boolean runsPart(String part, String reason) {
    report.record(key, reason == null ? KernelReport.KERNEL : "tensor operations (" + part + ": " + reason + ")");
    return reason == null;
  }

  /**
   * {@code output}, computed by the kernel without autograd from {@code inputs}, connected to them with
   * {@code backward} as its gradient; see {@link BackwardTape#attach(Tensor, List, List, BackwardTape.Backward)}.
   */
  public Tensor attach(Tensor output, List<Tensor> inputs, List<Tensor> saved, BackwardTape.Backward backward) {
    if (tape == null) {
      throw new IllegalStateException("the " + key + " kernel has no backward tape to attach to");
    }
    return tape.attach(output, inputs, saved, backward);
  }

  /** A new uninitialized tensor of {@code shape} and {@code type} on {@code like}'s device, for a kernel to fill. */
  public static Tensor empty(Tensor like, torch.ScalarType type, long... shape) {
    return torch.empty(shape, new TensorOptions(type).device(new DeviceOptional(like.device())),
        new MemoryFormatOptional());
  }

  /** A new uninitialized tensor of {@code like}'s shape and type on its device. */
  public static Tensor emptyLike(Tensor like) {
    return empty(like, like.scalar_type(), like.sizes().vec().get());
  }

  /**
   * Why a CUDA kernel cannot take {@code x} when it is not on a CUDA device, else null; {@code subject} names it
   * with its verb ({@code "the input is"}, {@code "the logits are"}).
   */
  public static String notOnCuda(String subject, Tensor x) {
    return x.is_cuda() ? null : subject + " not on a CUDA device (" + x.device().str().getString() + ")";
  }
}
