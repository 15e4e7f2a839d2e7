// Mamba's selective scan as two CUDA kernels, compiled at run time by org.fastllm.modules.cuda.RuntimeKernels.
//
//   h_t[d, n] = exp(delta_t[d] A[d, n]) h_(t-1)[d, n] + delta_t[d] B_t[g(d), n] u_t[d]
//   y_t[d]    = sum_n C_t[g(d), n] h_t[d, n]
//
// One thread per (batch, channel, state): the STATE threads of a channel sit side by side in a warp, so sums over
// states are warp shuffles within segments of STATE lanes. A block holds CHANNELS consecutive channels, all of one
// group, so the backward sums over a group's channels in shared memory (a row per warp, added up at each chunk's
// end). Time runs sequentially inside each thread.
// The forward keeps the state entering every chunk of CHUNK steps; the backward walks the chunks from the last,
// recomputes the chunk's states into registers from its entering state, then runs the adjoint recurrence back
// through it.
//
// Layouts (float32, contiguous): u, delta, y, dy, du, ddelta [batch, time, channels]; A, dA [channels, STATE];
// B, C, dB, dC [batch, time, groups, STATE]; entering [batch, channels, chunks, STATE].
// Compile-time constants (given with -D): STATE (a power of two up to 32), CHANNELS, CHUNK.

#define FULL_MASK 0xffffffffu
#define LOG2E 1.4426950408889634f
#define WARPS (CHANNELS * STATE / 32)

__device__ __forceinline__ float sum_states(float v) {
#pragma unroll
  for (int offset = STATE / 2; offset > 0; offset /= 2) {
    v += __shfl_xor_sync(FULL_MASK, v, offset, STATE);
  }
  return v;
}

// Sum over the channels that share a warp (lanes with the same state index); the result is valid in every lane.
__device__ __forceinline__ float sum_warp_channels(float v) {
#pragma unroll
  for (int offset = STATE; offset < 32; offset *= 2) {
    v += __shfl_xor_sync(FULL_MASK, v, offset);
  }
  return v;
}

extern "C" __global__ void selective_scan_forward(
    const float* __restrict__ u, const float* __restrict__ delta, const float* __restrict__ A,
    const float* __restrict__ B, const float* __restrict__ C, float* __restrict__ y, float* __restrict__ entering,
    int time, int channels, int groups, int chunks) {
  const int n = threadIdx.x % STATE;
  const int d = blockIdx.x * CHANNELS + threadIdx.x / STATE;
  const int batch = blockIdx.y;
  const int g = d / (channels / groups);
  const float a2 = A[d * STATE + n] * LOG2E;   // exp(dt a) = exp2(dt a log2 e)
  const size_t row = (size_t) batch * time;
  float h = 0.0f;
  float* keep = entering + (((size_t) batch * channels + d) * chunks) * STATE + n;
  for (int chunk = 0; chunk < chunks; ++chunk) {
    keep[chunk * STATE] = h;
    const int start = chunk * CHUNK;
    const int length = min(CHUNK, time - start);
#pragma unroll 8
    for (int k = 0; k < length; ++k) {
      const size_t at = (row + start + k) * channels + d;
      const size_t bc = ((row + start + k) * groups + g) * STATE + n;
      const float dt = delta[at];
      h = exp2f(dt * a2) * h + dt * B[bc] * u[at];
      const float out = sum_states(C[bc] * h);
      if (n == 0) {
        y[at] = out;
      }
    }
  }
}

extern "C" __global__ void selective_scan_backward(
    const float* __restrict__ u, const float* __restrict__ delta, const float* __restrict__ A,
    const float* __restrict__ B, const float* __restrict__ C, const float* __restrict__ entering,
    const float* __restrict__ dy, float* __restrict__ du, float* __restrict__ ddelta, float* __restrict__ dA,
    float* __restrict__ dB, float* __restrict__ dC, int time, int channels, int groups, int chunks) {
  // each warp's sums over its channels, per step of the chunk; added over warps at the chunk's end
  __shared__ float warpB[WARPS][CHUNK * STATE];
  __shared__ float warpC[WARPS][CHUNK * STATE];
  const int n = threadIdx.x % STATE;
  const int lane = threadIdx.x % 32;
  const int warp = threadIdx.x / 32;
  const int d = blockIdx.x * CHANNELS + threadIdx.x / STATE;
  const int batch = blockIdx.y;
  const int g = d / (channels / groups);
  const float a = A[d * STATE + n];
  const float a2 = a * LOG2E;
  const size_t row = (size_t) batch * time;
  const float* kept = entering + (((size_t) batch * channels + d) * chunks) * STATE + n;
  float dh = 0.0f;     // d loss / d h_t, carried back from later steps
  float dAsum = 0.0f;
  float states[CHUNK];
  for (int chunk = chunks - 1; chunk >= 0; --chunk) {
    const int start = chunk * CHUNK;
    const int length = min(CHUNK, time - start);
    const float h0 = kept[chunk * STATE];
    float h = h0;
#pragma unroll
    for (int k = 0; k < CHUNK; ++k) {
      if (k < length) {
        const size_t at = (row + start + k) * channels + d;
        const size_t bc = ((row + start + k) * groups + g) * STATE + n;
        const float dt = delta[at];
        h = exp2f(dt * a2) * h + dt * B[bc] * u[at];
        states[k] = h;
      }
    }
#pragma unroll
    for (int k = CHUNK - 1; k >= 0; --k) {
      if (k < length) {
        const size_t at = (row + start + k) * channels + d;
        const size_t bc = ((row + start + k) * groups + g) * STATE + n;
        const float dt = delta[at];
        const float x = u[at];
        const float b = B[bc];
        const float grad = dy[at];
        const float decay = exp2f(dt * a2);
        const float before = k > 0 ? states[k > 0 ? k - 1 : 0] : h0;  // (the inner test keeps the index in range)
        dh += grad * C[bc];
        const float dDecay = dh * before * decay;   // d loss / d (dt a), this state's share
        dAsum += dDecay * dt;
        const float dInput = sum_states(dh * b);   // d loss / d (dt u)
        const float dDelta = sum_states(dDecay * a) + dInput * x;
        if (n == 0) {
          du[at] = dInput * dt;
          ddelta[at] = dDelta;
        }
        const float shareB = sum_warp_channels(dh * dt * x);
        const float shareC = sum_warp_channels(grad * states[k]);
        if (lane < STATE) {
          warpB[warp][k * STATE + n] = shareB;
          warpC[warp][k * STATE + n] = shareC;
        }
        dh *= decay;
      }
    }
    __syncthreads();
    for (int i = threadIdx.x; i < length * STATE; i += blockDim.x) {
      float sumB = 0.0f;
      float sumC = 0.0f;
#pragma unroll
      for (int w = 0; w < WARPS; ++w) {
        sumB += warpB[w][i];
        sumC += warpC[w][i];
      }
      const size_t bc = ((row + start + i / STATE) * groups + g) * STATE + i % STATE;
      atomicAdd(&dB[bc], sumB);
      atomicAdd(&dC[bc], sumC);
    }
    __syncthreads();
  }
  atomicAdd(&dA[d * STATE + n], dAsum);
}
