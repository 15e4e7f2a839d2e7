// layer_norm and rms_norm over the last dimension as two CUDA kernels, compiled at run time by
// org.fastllm.modules.cuda.RuntimeKernels, for bf16 autocast: float32 input and parameters, bfloat16 output,
//
//   y = (x - mean) * rstd * weight + bias,   rstd = 1 / sqrt(mean((x - mean)^2) + epsilon)   (layer_norm)
//   y = x * rstd * weight,                   rstd = 1 / sqrt(mean(x^2) + epsilon)             (rms_norm)
//
// so the value autocast's next matrix product would cast to bfloat16 is written once, in bfloat16, and its
// gradient arrives in bfloat16. The backward with xhat = (x - mean) * rstd, g = dy * weight:
//
//   dx = rstd * (g - mean(g) - xhat * mean(g * xhat))   (rms_norm: without the mean(g) term)
//   dweight = sum over rows of dy * xhat,   dbias = sum over rows of dy
//
// Forward: a block per row; each thread keeps its PER values of the row in registers (exact two-pass variance).
// Backward: each block walks rows blockIdx.x, blockIdx.x + gridDim.x, ... and keeps its columns' weight and bias
// sums in registers, written at the end as one row of partial sums per block (the caller adds the rows up).
// Layouts (contiguous): x, dx [rows, HIDDEN] float32; y, dy [rows, HIDDEN] bfloat16; mean, rstd [rows] float32;
// weight, bias [HIDDEN] float32; partial sums [gridDim.x, HIDDEN] float32.
// Compile-time constants (given with -D): HIDDEN (the normalized size), THREADS (a multiple of 32, up to 1024),
// RMS (1 for rms_norm, 0 for layer_norm).

#define FULL_MASK 0xffffffffu
#define WARPS (THREADS / 32)
#define PER ((HIDDEN + THREADS - 1) / THREADS)

#include "../cuda/bf16.cuh"

struct sums {
  float a;
  float b;
};

// The block's sum of (a, b), valid in every thread; `shared` holds 2 * WARPS floats.
__device__ __forceinline__ sums block_sum(float a, float b, float* shared) {
#pragma unroll
  for (int offset = 16; offset > 0; offset /= 2) {
    a += __shfl_xor_sync(FULL_MASK, a, offset);
    b += __shfl_xor_sync(FULL_MASK, b, offset);
  }
  const int warp = threadIdx.x / 32;
  __syncthreads();   // the previous call's readers are done with `shared`
  if (threadIdx.x % 32 == 0) {
    shared[warp] = a;
    shared[WARPS + warp] = b;
  }
  __syncthreads();
  sums total = {0.0f, 0.0f};
#pragma unroll
  for (int w = 0; w < WARPS; ++w) {
    total.a += shared[w];
    total.b += shared[WARPS + w];
  }
  return total;
}

extern "C" __global__ void norm_forward(const float* __restrict__ x, const float* __restrict__ weight,
    const float* __restrict__ bias, unsigned short* __restrict__ y, float* __restrict__ mean,
    float* __restrict__ rstd, float epsilon) {
  __shared__ float shared[2 * WARPS];
  const size_t row = blockIdx.x;
  const float* in = x + row * HIDDEN;
  float v[PER];
  float sum = 0.0f;
#pragma unroll
  for (int j = 0; j < PER; ++j) {
    const int c = threadIdx.x + j * THREADS;
    v[j] = c < HIDDEN ? in[c] : 0.0f;
    sum += v[j];
  }
#if RMS
  const float mu = 0.0f;
#else
  const float mu = block_sum(sum, 0.0f, shared).a / HIDDEN;
#endif
  float squares = 0.0f;
#pragma unroll
  for (int j = 0; j < PER; ++j) {
    const int c = threadIdx.x + j * THREADS;
    const float centred = c < HIDDEN ? v[j] - mu : 0.0f;
    squares += centred * centred;
  }
  const float r = rsqrtf(block_sum(squares, 0.0f, shared).a / HIDDEN + epsilon);
  unsigned short* out = y + row * HIDDEN;
#pragma unroll
  for (int j = 0; j < PER; ++j) {
    const int c = threadIdx.x + j * THREADS;
    if (c < HIDDEN) {
#if RMS
      out[c] = store_bf16(v[j] * r * weight[c]);
#else
      out[c] = store_bf16((v[j] - mu) * r * weight[c] + bias[c]);
#endif
    }
  }
  if (threadIdx.x == 0) {
    mean[row] = mu;
    rstd[row] = r;
  }
}

extern "C" __global__ void norm_backward(const unsigned short* __restrict__ dy, const float* __restrict__ x,
    const float* __restrict__ weight, const float* __restrict__ mean, const float* __restrict__ rstd,
    float* __restrict__ dx, float* __restrict__ partialWeight, float* __restrict__ partialBias, int rows) {
  __shared__ float shared[2 * WARPS];
  float w[PER];
  float sumWeight[PER];
  float sumBias[PER];
#pragma unroll
  for (int j = 0; j < PER; ++j) {
    const int c = threadIdx.x + j * THREADS;
    w[j] = c < HIDDEN ? weight[c] : 0.0f;
    sumWeight[j] = 0.0f;
    sumBias[j] = 0.0f;
  }
  for (int row = blockIdx.x; row < rows; row += gridDim.x) {
    const size_t start = (size_t) row * HIDDEN;
    const float mu = mean[row];
    const float r = rstd[row];
    float g[PER];
    float xhat[PER];
    float sumG = 0.0f;
    float sumGX = 0.0f;
#pragma unroll
    for (int j = 0; j < PER; ++j) {
      const int c = threadIdx.x + j * THREADS;
      const float d = c < HIDDEN ? load_bf16(dy[start + c]) : 0.0f;
      xhat[j] = c < HIDDEN ? (x[start + c] - mu) * r : 0.0f;
      sumWeight[j] += d * xhat[j];
      sumBias[j] += d;
      g[j] = d * w[j];
      sumG += g[j];
      sumGX += g[j] * xhat[j];
    }
    const sums rowSums = block_sum(sumG, sumGX, shared);
#if RMS
    const float meanG = 0.0f;
#else
    const float meanG = rowSums.a / HIDDEN;
#endif
    const float meanGX = rowSums.b / HIDDEN;
#pragma unroll
    for (int j = 0; j < PER; ++j) {
      const int c = threadIdx.x + j * THREADS;
      if (c < HIDDEN) {
        dx[start + c] = r * (g[j] - meanG - xhat[j] * meanGX);
      }
    }
  }
#pragma unroll
  for (int j = 0; j < PER; ++j) {
    const int c = threadIdx.x + j * THREADS;
    if (c < HIDDEN) {
      partialWeight[(size_t) blockIdx.x * HIDDEN + c] = sumWeight[j];
#if !RMS
      partialBias[(size_t) blockIdx.x * HIDDEN + c] = sumBias[j];
#endif
    }
  }
}
