// Cross-entropy of logits rows against target ids, forward and backward as one CUDA kernel each, compiled at run
// time by org.fastllm.modules.cuda.RuntimeKernels. One block per row; each thread walks the row in vectors of
// 16 bytes (VEC elements) and keeps a running maximum and sum of exponentials (an online softmax, base 2), which
// the block then merges. The forward reads the row once and writes two floats; the backward reads it once more
// and writes the gradient in the logits' type. Nothing of the size of the logits is kept in float32.
//
//   forward:  lse[r] = log sum_j exp(x[r, j]);   loss[r] = lse[r] - x[r, t_r]   (0 where t_r = -100)
//   backward: dx[r, j] = (exp(x[r, j] - lse[r]) - [j = t_r]) * scale           (0 where t_r = -100)
//
// A target outside [0, vocab) other than -100 gives a NaN loss. The arithmetic is float32.
// Compile-time constant BF16: 1 for bfloat16 logits, 0 for float32. vocab is a multiple of VEC and rows start on
// 16-byte boundaries (the caller checks).

#include "../cuda/bf16.cuh"

#if BF16
typedef unsigned short element;
#define VEC 8
__device__ __forceinline__ float load(element v) { return load_bf16(v); }
__device__ __forceinline__ element store(float f) { return store_bf16(f); }
#else
typedef float element;
#define VEC 4
__device__ __forceinline__ float load(element v) { return v; }
__device__ __forceinline__ element store(float f) { return f; }
#endif

#define LOG2E 1.4426950408889634f
#define LN2 0.6931471805599453f
#define IGNORED (-100)
// NVRTC has no math.h: minus infinity and a quiet NaN by their bits
#define NEGATIVE_INFINITY __int_as_float(0xff800000)
#define QUIET_NAN __int_as_float(0x7fc00000)

// 16 bytes loaded or stored at once
struct alignas(16) Raw {
  unsigned int word[4];
};

union Vector {
  Raw raw;
  element e[VEC];
};

// (m, s) and (m2, s2) as one pair: the sum of 2^(v - m) over both sets, against their common maximum.
__device__ __forceinline__ void merge(float& m, float& s, float m2, float s2) {
  const float top = fmaxf(m, m2);
  if (top == NEGATIVE_INFINITY) {
    return;   // both sets empty so far
  }
  s = s * exp2f(m - top) + s2 * exp2f(m2 - top);
  m = top;
}

extern "C" __global__ void cross_entropy_forward(const element* __restrict__ logits,
    const long long* __restrict__ targets, float* __restrict__ rowLoss, float* __restrict__ rowLse, int vocab) {
  __shared__ float maxima[32];
  __shared__ float sums[32];
  const long long row = blockIdx.x;
  const Raw* x = reinterpret_cast<const Raw*>(logits + row * vocab);
  float m = NEGATIVE_INFINITY;
  float s = 0.0f;
  for (int v = threadIdx.x; v < vocab / VEC; v += blockDim.x) {
    Vector in;
    in.raw = x[v];
    float scaled[VEC];
    float top = NEGATIVE_INFINITY;
#pragma unroll
    for (int k = 0; k < VEC; k++) {
      scaled[k] = load(in.e[k]) * LOG2E;
      top = fmaxf(top, scaled[k]);
    }
    float sum = 0.0f;
#pragma unroll
    for (int k = 0; k < VEC; k++) {
      sum += exp2f(scaled[k] - top);
    }
    merge(m, s, top, sum);
  }
  for (int offset = 16; offset > 0; offset >>= 1) {
    merge(m, s, __shfl_xor_sync(0xffffffffu, m, offset), __shfl_xor_sync(0xffffffffu, s, offset));
  }
  const int warp = threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (lane == 0) {
    maxima[warp] = m;
    sums[warp] = s;
  }
  __syncthreads();
  if (warp == 0) {
    const int warps = blockDim.x / 32;
    m = lane < warps ? maxima[lane] : NEGATIVE_INFINITY;
    s = lane < warps ? sums[lane] : 0.0f;
    for (int offset = 16; offset > 0; offset >>= 1) {
      merge(m, s, __shfl_xor_sync(0xffffffffu, m, offset), __shfl_xor_sync(0xffffffffu, s, offset));
    }
    if (lane == 0) {
      const float lse = (m + log2f(s)) * LN2;
      const long long t = targets[row];
      rowLse[row] = lse;
      rowLoss[row] = t == IGNORED ? 0.0f
          : (t < 0 || t >= vocab) ? QUIET_NAN : lse - load(logits[row * vocab + t]);
    }
  }
}

// scale: one float on the device, d loss / d mean loss divided by the number of rows counted.
extern "C" __global__ void cross_entropy_backward(const element* __restrict__ logits,
    const long long* __restrict__ targets, const float* __restrict__ rowLse, const float* __restrict__ scale,
    element* __restrict__ gradient, int vocab) {
  const long long row = blockIdx.x;
  const long long t = targets[row];
  const float factor = t == IGNORED ? 0.0f : *scale;
  const float lse2 = rowLse[row] * LOG2E;
  const Raw* x = reinterpret_cast<const Raw*>(logits + row * vocab);
  Raw* dx = reinterpret_cast<Raw*>(gradient + row * vocab);
  for (int v = threadIdx.x; v < vocab / VEC; v += blockDim.x) {
    Vector in;
    Vector out;
    in.raw = x[v];
#pragma unroll
    for (int k = 0; k < VEC; k++) {
      const float p = exp2f(load(in.e[k]) * LOG2E - lse2);
      out.e[k] = store((p - (v * VEC + k == t ? 1.0f : 0.0f)) * factor);
    }
    dx[v] = out.raw;
  }
}
