package org.fastllm.dsl.config;

import org.fastllm.dsl.Doc;
import org.fastllm.dsl.config.rules.ValidKernels;

/**
 * The {@code training.kernels} section: which hand-written CUDA kernels a run uses instead of tensor operations.
 *
 * <pre>{@code
 * training:
 *   kernels: {norm: on, loss: auto, scan: auto, rotary: off, adamw: auto, bf16_copies: auto, scan_segments: 4}
 * }</pre>
 *
 * <p>On the CPU every kernel is off whatever the choice, except that {@code on} stops the run with the reason.
 * <b>{@code auto} runs the kernel wherever it can and says in the first metrics line what actually ran.</b>
 */
@Doc(rules = {"scan_segments is auto or at least 1"})
@ValidKernels
public record KernelsConfig(
    @Doc("layer and RMS norm as one kernel each way under bf16 autocast; auto: in training only where the step is"
        + " replayed from a CUDA graph")
    KernelChoice norm,
    @Doc("cross-entropy as two kernels (forward, backward) on CUDA")
    KernelChoice loss,
    @Doc("the selective scan of the Mamba mixers as CUDA kernels, and under bf16 autocast the D skip and silu(z)"
        + " gate after it")
    KernelChoice scan,
    @Doc("rotary embeddings as one CUDA kernel each way")
    KernelChoice rotary,
    @Doc("libtorch's fused AdamW kernel, one launch per parameter group")
    KernelChoice adamw,
    @Doc("bfloat16 copies of single-use linear weights kept by AdamW under bf16 autocast on one GPU")
    KernelChoice bf16Copies,
    @Doc("time segments of the scan's forward and backward run side by side: auto (from the GPU's resident"
        + " blocks) or a number")
    ScanSegments scanSegments) {

  /**
   * Every kernel at its default, auto. A trainer turns an auto norm off where its steps launch eagerly on a GPU: the
   * norm kernels' host work then costs a small model more than they save.
   */
  public static final KernelsConfig DEFAULTS = new KernelsConfig(KernelChoice.AUTO, KernelChoice.AUTO,
      KernelChoice.AUTO, KernelChoice.AUTO, KernelChoice.AUTO, KernelChoice.AUTO, ScanSegments.AUTO);

  public KernelsConfig withDefaults() {
    return new KernelsConfig(or(norm, DEFAULTS.norm), or(loss, DEFAULTS.loss), or(scan, DEFAULTS.scan),
        or(rotary, DEFAULTS.rotary), or(adamw, DEFAULTS.adamw), or(bf16Copies, DEFAULTS.bf16Copies),
        scanSegments != null ? scanSegments : ScanSegments.AUTO);
  }

  private static KernelChoice or(KernelChoice value, KernelChoice fallback) {
    return value != null ? value : fallback;
  }
}
