// The D skip and silu(z) gate that follow the selective scan in the Mamba mixers, one kernel each way, compiled at
// run time by org.fastllm.modules.cuda.RuntimeKernels. Under bf16 autocast the scan's y is float32 and u and z are
// bfloat16 (the convolution's and the input projection's outputs):
//
//   out = (y + D u) silu(z), in bfloat16: the value the output projection reads
//
// and from its gradient dout, with s = sigmoid(z) and g = y + D u:
//
//   dy = dout z s,   du = dy D,   dz = dout g s (1 + z (1 - s)),   dD = the sum over rows of dy u
//
// In place of five tensor operations forward (a product, a sum, silu, a product, the cast the projection makes)
// and about ten backward, each a pass over [rows, channels]. Layouts: y, dy [rows, channels] contiguous; u, z, du,
// dz rows of channels with a row stride (u and z are often slices of a wider projection); D, dD [channels].
// A thread per channel walks rows blockIdx.y, blockIdx.y + gridDim.y, ... (threads along channels, so each row's
// reads are consecutive), adding its share of dD once at the end.
#include "../cuda/bf16.cuh"

__device__ __forceinline__ float sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

extern "C" __global__ void gate_forward(const float* __restrict__ y, const unsigned short* __restrict__ u,
    const unsigned short* __restrict__ z, const float* __restrict__ skip, unsigned short* __restrict__ out,
    int rows, int channels, int uStride, int zStride) {
  const int d = blockIdx.x * blockDim.x + threadIdx.x;
  if (d >= channels) {
    return;
  }
  const float D = skip[d];
  for (int r = blockIdx.y; r < rows; r += gridDim.y) {
    const float zv = load_bf16(z[(size_t) r * zStride + d]);
    const float g = y[(size_t) r * channels + d] + D * load_bf16(u[(size_t) r * uStride + d]);
    out[(size_t) r * channels + d] = store_bf16(g * zv * sigmoid(zv));
  }
}

extern "C" __global__ void gate_backward(const unsigned short* __restrict__ dout, const float* __restrict__ y,
    const unsigned short* __restrict__ u, const unsigned short* __restrict__ z, const float* __restrict__ skip,
    float* __restrict__ dy, unsigned short* __restrict__ du, unsigned short* __restrict__ dz,
    float* __restrict__ dskip, int rows, int channels, int uStride, int zStride) {
  const int d = blockIdx.x * blockDim.x + threadIdx.x;
  if (d >= channels) {
    return;
  }
  const float D = skip[d];
  float sum = 0.0f;
  for (int r = blockIdx.y; r < rows; r += gridDim.y) {
    const size_t at = (size_t) r * channels + d;
    const float grad = load_bf16(dout[at]);
    const float uv = load_bf16(u[(size_t) r * uStride + d]);
    const float zv = load_bf16(z[(size_t) r * zStride + d]);
    const float s = sigmoid(zv);
    const float g = y[at] + D * uv;
    const float dyv = grad * zv * s;
    dy[at] = dyv;
    du[at] = store_bf16(dyv * D);
    dz[at] = store_bf16(grad * g * s * (1.0f + zv * (1.0f - s)));
    sum += dyv * uv;
  }
  atomicAdd(&dskip[d], sum);
}
