package org.fastllm.modules.optim;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The update of {@code adamw.cu} written out as a plain loop over CPU tensors, the same float32 arithmetic element
 * by element (the copy rounded to bfloat16 to nearest, ties to even, as the kernel's {@code store_bf16}): lets the
 * CPU tests drive {@link CopyAdamW}'s kernel path and check the numbers it hands the kernel.
 */
final class JavaAdamWCopyKernels implements AdamWCopyKernels {
  @Override
  public String unavailable(Tensor weight) {
    return null;
  }

  @Override
  public void step(Tensor weight, Tensor expAvg, Tensor expAvgSq, Tensor grad, Tensor copy, Tensor gradScale,
      Step step) {
    float[] w = read(weight);
    float[] m = read(expAvg);
    float[] v = read(expAvgSq);
    float[] g = read(grad.to(torch.ScalarType.Float));
    float scale = read(gradScale)[0];
    for (int i = 0; i < w.length; i++) {
      float gi = g[i] / scale;
      float wi = w[i];
      wi -= step.lrDecay() * wi;
      m[i] = step.beta1() * m[i] + (1.0f - step.beta1()) * gi;
      v[i] = step.beta2() * v[i] + (1.0f - step.beta2()) * gi * gi;
      wi -= step.stepSize() * m[i] / ((float) Math.sqrt(v[i]) / step.sqrtCorrection2() + step.epsilon());
      w[i] = wi;
    }
    weight.data_ptr_float().put(w);
    expAvg.data_ptr_float().put(m);
    expAvgSq.data_ptr_float().put(v);
    copy.copy_(weight);   // libtorch rounds float32 to bfloat16 to nearest, ties to even
  }

  private static float[] read(Tensor t) {
    float[] values = new float[(int) t.numel()];
    t.contiguous().data_ptr_float().get(values);
    return values;
  }
}
