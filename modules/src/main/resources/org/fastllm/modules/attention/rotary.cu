// Rotary position embedding as one CUDA kernel, compiled at run time by org.fastllm.modules.cuda.RuntimeKernels:
// each thread turns one (re, im) pair, re at channel f and im at f + size/2 of a head, by the angle of its position,
//
//   re' = re cos - SIGN im sin,   im' = SIGN re sin + im cos,
//
// SIGN +1 for the forward and -1 for the backward (the transpose of a rotation turns the other way).
// x: [batch, heads, time, size] read through its strides (in elements), so transposed views need no copy; out is
// contiguous in the same shape. cos, sin: [>= time, size / 2] float32 tables. The arithmetic is float32 with one
// rounding at the store. Compile-time constant BF16: 1 for bfloat16 elements, 0 for float32.

#include "../cuda/bf16.cuh"

#if BF16
typedef unsigned short element;
__device__ __forceinline__ float load(element v) { return load_bf16(v); }
__device__ __forceinline__ element store(float f) { return store_bf16(f); }
#else
typedef float element;
__device__ __forceinline__ float load(element v) { return v; }
__device__ __forceinline__ element store(float f) { return f; }
#endif

extern "C" __global__ void rotary(const element* __restrict__ x, element* __restrict__ out,
    const float* __restrict__ cosines, const float* __restrict__ sines, int heads, int time, int size,
    long long strideBatch, long long strideHead, long long strideTime, long long strideChannel, int pairs,
    float sign) {
  // 32-bit index arithmetic (the caller keeps pairs below 2^31): 64-bit division costs several times more
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= pairs) {
    return;
  }
  const int half = size / 2;
  const int f = i % half;
  int rest = i / half;
  const int t = rest % time;
  rest /= time;
  const int h = rest % heads;
  const int b = rest / heads;
  const long long in = b * strideBatch + h * strideHead + t * strideTime;
  const float re = load(x[in + f * strideChannel]);
  const float im = load(x[in + (f + half) * strideChannel]);
  const float c = cosines[t * half + f];
  const float s = sign * sines[t * half + f];
  const long long o = (long long) (i - f) * 2;   // the pair's row starts at 2 (i - f) in the contiguous output
  out[o + f] = store(re * c - im * s);
  out[o + f + half] = store(re * s + im * c);
}
