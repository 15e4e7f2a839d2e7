// AdamW for a float32 weight that keeps a bfloat16 copy, as one CUDA kernel compiled at run time by
// org.fastllm.modules.cuda.RuntimeKernels: it reads the weight, both moments and the bfloat16 gradient (the one the
// copy received in the backward) and writes the weight, the moments and the copy, in one pass.
// The update is torch.optim.AdamW's (fused=True) with the gradient divided by grad_scale[0] first:
//
//   w -= lr * decay * w;   m = beta1 m + (1 - beta1) g;   v = beta2 v + (1 - beta2) g^2
//   w -= (lr / (1 - beta1^step)) * m / (sqrt(v) / sqrt(1 - beta2^step) + epsilon);   copy = bf16(w)
//
// Arrays are contiguous, n elements each; a grid-stride loop.

#include "../cuda/bf16.cuh"

extern "C" __global__ void adamw_bf16_copy(float* __restrict__ weight, float* __restrict__ expAvg,
    float* __restrict__ expAvgSq, const unsigned short* __restrict__ grad, unsigned short* __restrict__ copy,
    const float* __restrict__ gradScale, long long n, float lrDecay, float beta1, float beta2, float stepSize,
    float sqrtCorrection2, float epsilon) {
  const float scale = gradScale[0];
  const long long stride = (long long) gridDim.x * blockDim.x;
  for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
    const float g = load_bf16(grad[i]) / scale;
    float w = weight[i];
    w -= lrDecay * w;
    const float m = beta1 * expAvg[i] + (1.0f - beta1) * g;
    const float v = beta2 * expAvgSq[i] + (1.0f - beta2) * g * g;
    w -= stepSize * m / (sqrtf(v) / sqrtCorrection2 + epsilon);
    expAvg[i] = m;
    expAvgSq[i] = v;
    weight[i] = w;
    copy[i] = store_bf16(w);
  }
}
