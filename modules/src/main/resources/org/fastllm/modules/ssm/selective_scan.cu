// Mamba's selective scan as CUDA kernels, compiled at run time by org.fastllm.modules.cuda.RuntimeKernels.
//
//   h_t[d, n] = exp(delta_t[d] A[d, n]) h_(t-1)[d, n] + delta_t[d] B_t[g(d), n] u_t[d]
//   y_t[d]    = sum_n C_t[g(d), n] h_t[d, n]
//
// One thread per (batch, channel, state): the STATE threads of a channel sit side by side in a warp, so sums over
// states are warp shuffles within runs of STATE lanes. A block holds CHANNELS consecutive channels, all of one
// group, so the backward sums over a group's channels in shared memory (a row per warp, added up at each span's
// end). Time runs sequentially inside each thread.
//
// Each block reads a chunk's inputs once, together, into shared memory: the CHUNK x CHANNELS rows of u and delta
// (and dy), consecutive floats, and the group's CHUNK x STATE rows of B and C, which all of its channels share; the
// steps then read them from there. Read step by step from global memory, each step waited for its loads. The
// forward loads the next chunk into registers while it walks the current one, and writes y a chunk at a time. The
// forward, like the backward, splits time into segments that run side by side where the blocks would not fill the
// GPU (below).
//
// The forward keeps the state entering every chunk of CHUNK steps. The backward walks the chunks from the last: it
// recomputes the state entering each span of SPAN steps of the chunk from the chunk's, then, span by span from the
// last, the span's states into registers, and runs the adjoint recurrence back through them.
//
// The backward also splits time into segments of a whole number of chunks that run in parallel, a block per
// (channel block, batch entry, segment). Walking back through step k does dh = (dh + dy_k C_k) decay_k with
// decay_k = exp(delta_k A), an affine map of dh, so the dh a segment hands to the one before it is
// local_s + P_s incoming_s: local_s is what the segment leaves when started from dh = 0, P_s = exp(A x the sum of
// the segment's delta) the product of its decays, and incoming_s what the segment after it hands over (0 for the
// last). selective_scan_backward_carry computes local_s and P_s for every segment but the first, reading only
// delta, dy, C and A; each block of selective_scan_backward starts from the incoming dh folded from the (local, P)
// of the segments after its own and walks its own chunks as above, starting from the forward's kept states. Its
// dA is added once per segment; dB and dC rows belong to one step, so segments never add to the same one. With one
// segment the backward is the walk through all chunks from dh = 0.
//
// Layouts (float32, contiguous): u, delta, y, dy, du, ddelta [batch, time, channels]; A, dA [channels, STATE];
// B, C, dB, dC [batch, time, groups, STATE]; entering [batch, channels, chunks, STATE];
// local, decays [batch, channels, segments, STATE]. Grids: y = batch entry, x = channel block, or for the backward
// kernels channel block + channel blocks x segment (x segment - 1 for the carry kernel, whose segments start at 1).
// Compile-time constants (given with -D): STATE (a power of two up to 32), CHANNELS, CHUNK.

#define FULL_MASK 0xffffffffu
#define LOG2E 1.4426950408889634f
#define WARPS (CHANNELS * STATE / 32)
#define SPAN (CHUNK % 4 == 0 ? 4 : CHUNK)   // steps whose states the backward holds in registers at once
#define SPANS (CHUNK / SPAN)
#define BACKWARD_BLOCKS (CHANNELS * STATE >= 64 ? 1024 / (CHANNELS * STATE) : 16)   // 16: some GPUs hold no more
#define THREADS (CHANNELS * STATE)
#define ROW_LOADS ((CHUNK * CHANNELS + THREADS - 1) / THREADS)   // a thread's share of a chunk's [CHUNK][CHANNELS] rows
#define GROUP_LOADS ((CHUNK * STATE + THREADS - 1) / THREADS)    // and of its [CHUNK][STATE] rows of B or C

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

// A chunk's rows of u and delta ([CHUNK][CHANNELS] from the block's first channel) and of B and C ([CHUNK][STATE] of
// its group; C only WITH_C), this thread's share, into registers; steps past the end of time are left out.
template <bool WITH_C>
__device__ __forceinline__ void load_chunk(const float* __restrict__ u, const float* __restrict__ delta,
    const float* __restrict__ B, const float* __restrict__ C, size_t row, int start, int length, int first, int g,
    int channels, int groups, float (&xs)[ROW_LOADS], float (&dts)[ROW_LOADS], float (&bs)[GROUP_LOADS],
    float (&cs)[GROUP_LOADS]) {
#pragma unroll
  for (int j = 0; j < ROW_LOADS; ++j) {
    const int i = threadIdx.x + j * THREADS;
    const int k = i / CHANNELS;
    if (i < CHUNK * CHANNELS && k < length) {
      const size_t at = (row + start + k) * channels + first + i % CHANNELS;
      xs[j] = u[at];
      dts[j] = delta[at];
    }
  }
#pragma unroll
  for (int j = 0; j < GROUP_LOADS; ++j) {
    const int i = threadIdx.x + j * THREADS;
    const int k = i / STATE;
    if (i < CHUNK * STATE && k < length) {
      const size_t bc = ((row + start + k) * groups + g) * STATE + i % STATE;
      bs[j] = B[bc];
      if (WITH_C) {
        cs[j] = C[bc];
      }
    }
  }
}

// The block's shared rows of a chunk.
struct ChunkRows {
  float u[CHUNK][CHANNELS];
  float delta[CHUNK][CHANNELS];
  float y[CHUNK][CHANNELS];
  float b[CHUNK][STATE];
  float c[CHUNK][STATE];
};

// What load_chunk read, into the block's shared rows.
__device__ __forceinline__ void stage_chunk(ChunkRows& rows, const float (&xs)[ROW_LOADS],
    const float (&dts)[ROW_LOADS], const float (&bs)[GROUP_LOADS], const float (&cs)[GROUP_LOADS]) {
#pragma unroll
  for (int j = 0; j < ROW_LOADS; ++j) {
    const int i = threadIdx.x + j * THREADS;
    if (i < CHUNK * CHANNELS) {
      rows.u[i / CHANNELS][i % CHANNELS] = xs[j];
      rows.delta[i / CHANNELS][i % CHANNELS] = dts[j];
    }
  }
#pragma unroll
  for (int j = 0; j < GROUP_LOADS; ++j) {
    const int i = threadIdx.x + j * THREADS;
    if (i < CHUNK * STATE) {
      rows.b[i / STATE][i % STATE] = bs[j];
      rows.c[i / STATE][i % STATE] = cs[j];
    }
  }
}

// The recurrence through chunks [from, to) from the state h, this thread's (batch, channel, state). OUTPUT: keeps the
// state entering each chunk and writes y; otherwise (the carry pass) it only adds the steps' delta to sum.
template <bool OUTPUT>
__device__ __forceinline__ void forward_walk(ChunkRows& rows, const float* __restrict__ u,
    const float* __restrict__ delta, const float* __restrict__ B, const float* __restrict__ C, float* __restrict__ y,
    float* __restrict__ keep, int time, int channels, int groups, int from, int to, float a2, float& h, float& sum) {
  const int n = threadIdx.x % STATE;
  const int c = threadIdx.x / STATE;
  const int first = (blockIdx.x % (channels / CHANNELS)) * CHANNELS;
  const int g = first / (channels / groups);
  const size_t row = (size_t) blockIdx.y * time;
  float xs[ROW_LOADS], dts[ROW_LOADS], bs[GROUP_LOADS], cs[GROUP_LOADS];
  load_chunk<OUTPUT>(u, delta, B, C, row, from * CHUNK, min(CHUNK, time - from * CHUNK), first, g, channels, groups,
      xs, dts, bs, cs);
  for (int chunk = from; chunk < to; ++chunk) {
    if (OUTPUT) {
      keep[chunk * STATE] = h;
    }
    const int start = chunk * CHUNK;
    const int length = min(CHUNK, time - start);
    stage_chunk(rows, xs, dts, bs, cs);
    __syncthreads();
    if (chunk + 1 < to) {   // the next chunk's loads in flight while this one is walked
      load_chunk<OUTPUT>(u, delta, B, C, row, start + CHUNK, min(CHUNK, time - start - CHUNK), first, g, channels,
          groups, xs, dts, bs, cs);
    }
#pragma unroll 8
    for (int k = 0; k < length; ++k) {
      const float dt = rows.delta[k][c];
      h = exp2f(dt * a2) * h + dt * rows.b[k][n] * rows.u[k][c];
      if (OUTPUT) {
        const float out = sum_states(rows.c[k][n] * h);
        if (n == 0) {
          rows.y[k][c] = out;
        }
      } else {
        sum += dt;
      }
    }
    __syncthreads();
    if (OUTPUT) {
#pragma unroll
      for (int j = 0; j < ROW_LOADS; ++j) {
        const int i = threadIdx.x + j * THREADS;
        if (i < CHUNK * CHANNELS && i / CHANNELS < length) {
          y[(row + start + i / CHANNELS) * channels + first + i % CHANNELS] = rows.y[i / CHANNELS][i % CHANNELS];
        }
      }
    }
  }
}

// The forward's time splits into segments of segmentChunks chunks that run side by side, as the backward's do:
// stepping forward through k does h = decay_k h + input_k, an affine map of h, so the state a segment hands to the
// next is local_s + P_s incoming_s, local_s being what it leaves from h = 0 and P_s the product of its decays.
// selective_scan_forward_carry computes (local_s, P_s) of every segment but the last, a block per (channel block,
// batch entry, segment): blockIdx.x = channel block + channel blocks x segment. Layout of local and decays as in the
// backward: [batch, channels, segments, STATE].
extern "C" __global__ void __launch_bounds__(THREADS) selective_scan_forward_carry(
    const float* __restrict__ u, const float* __restrict__ delta, const float* __restrict__ A,
    const float* __restrict__ B, float* __restrict__ local, float* __restrict__ decays, int time, int channels,
    int groups, int chunks, int segmentChunks) {
  __shared__ ChunkRows rows;
  const int segment = blockIdx.x / (channels / CHANNELS);
  const int segments = (chunks + segmentChunks - 1) / segmentChunks;
  const int n = threadIdx.x % STATE;
  const int d = (blockIdx.x % (channels / CHANNELS)) * CHANNELS + threadIdx.x / STATE;
  const float a2 = A[d * STATE + n] * LOG2E;   // exp(dt a) = exp2(dt a log2 e)
  float h = 0.0f;
  float sum = 0.0f;   // of delta over the segment
  forward_walk<false>(rows, u, delta, B, nullptr, nullptr, nullptr, time, channels, groups, segment * segmentChunks,
      min(chunks, (segment + 1) * segmentChunks), a2, h, sum);
  const size_t out = (((size_t) blockIdx.y * channels + d) * segments + segment) * STATE + n;
  local[out] = h;
  decays[out] = exp2f(sum * a2);
}

// A block per (channel block, batch entry, segment), blockIdx.x = channel block + channel blocks x segment: from the
// state the segments before hand over (folded from their local and decays), through the segment's chunks.
extern "C" __global__ void __launch_bounds__(THREADS) selective_scan_forward(
    const float* __restrict__ u, const float* __restrict__ delta, const float* __restrict__ A,
    const float* __restrict__ B, const float* __restrict__ C, float* __restrict__ y, float* __restrict__ entering,
    const float* __restrict__ local, const float* __restrict__ decays, int time, int channels, int groups,
    int chunks, int segmentChunks) {
  __shared__ ChunkRows rows;
  const int segment = blockIdx.x / (channels / CHANNELS);
  const int segments = (chunks + segmentChunks - 1) / segmentChunks;
  const int n = threadIdx.x % STATE;
  const int d = (blockIdx.x % (channels / CHANNELS)) * CHANNELS + threadIdx.x / STATE;
  const float a2 = A[d * STATE + n] * LOG2E;
  float h = 0.0f;
  const size_t carried = ((size_t) blockIdx.y * channels + d) * segments * STATE + n;
  for (int earlier = 0; earlier < segment; ++earlier) {
    h = local[carried + earlier * STATE] + decays[carried + earlier * STATE] * h;
  }
  float unused = 0.0f;
  forward_walk<true>(rows, u, delta, B, C, y, entering + (((size_t) blockIdx.y * channels + d) * chunks) * STATE + n,
      time, channels, groups, segment * segmentChunks, min(chunks, (segment + 1) * segmentChunks), a2, h, unused);
}

// One thread per (batch, channel, state, segment), segments from the second on (blockIdx.x = channel block +
// channel blocks x (segment - 1)): the segment's dh from a zero start, walked back through its steps, and the product
// of its decays.
extern "C" __global__ void selective_scan_backward_carry(
    const float* __restrict__ delta, const float* __restrict__ A, const float* __restrict__ C,
    const float* __restrict__ dy, float* __restrict__ local, float* __restrict__ decays, int time, int channels,
    int groups, int chunks, int segmentChunks) {
  const int blocks = channels / CHANNELS;
  const int segment = blockIdx.x / blocks + 1;
  const int segments = (chunks + segmentChunks - 1) / segmentChunks;
  const int n = threadIdx.x % STATE;
  const int d = (blockIdx.x % blocks) * CHANNELS + threadIdx.x / STATE;
  const int batch = blockIdx.y;
  const int g = d / (channels / groups);
  const float a2 = A[d * STATE + n] * LOG2E;
  const size_t row = (size_t) batch * time;
  const int start = segment * segmentChunks * CHUNK;
  const int end = min(time, start + segmentChunks * CHUNK);
  float dh = 0.0f;
  float sum = 0.0f;   // of delta over the segment
#pragma unroll 8
  for (int t = end - 1; t >= start; --t) {
    const size_t at = (row + t) * channels + d;
    const float dt = delta[at];
    dh += dy[at] * C[((row + t) * groups + g) * STATE + n];
    dh *= exp2f(dt * a2);
    sum += dt;
  }
  const size_t out = (((size_t) batch * channels + d) * segments + segment) * STATE + n;
  local[out] = dh;
  decays[out] = exp2f(sum * a2);
}

// Held to 64 registers a thread (BACKWARD_BLOCKS blocks, 1024 threads, fill a multiprocessor's 64 Ki registers):
// the walk is bound by latency, and more resident warps hide more of it than registers holding loads ahead do.
extern "C" __global__ void __launch_bounds__(THREADS, BACKWARD_BLOCKS) selective_scan_backward(
    const float* __restrict__ u, const float* __restrict__ delta, const float* __restrict__ A,
    const float* __restrict__ B, const float* __restrict__ C, const float* __restrict__ entering,
    const float* __restrict__ dy, float* __restrict__ du, float* __restrict__ ddelta, float* __restrict__ dA,
    float* __restrict__ dB, float* __restrict__ dC, const float* __restrict__ local,
    const float* __restrict__ decays, int time, int channels, int groups, int chunks, int segmentChunks) {
  // each warp's sums over its channels, per step of the span; added over warps at the span's end
  __shared__ float warpB[WARPS][SPAN * STATE];
  __shared__ float warpC[WARPS][SPAN * STATE];
  // the chunk's inputs, read once by the block
  __shared__ float sU[CHUNK][CHANNELS];
  __shared__ float sDelta[CHUNK][CHANNELS];
  __shared__ float sDy[CHUNK][CHANNELS];
  __shared__ float sB[CHUNK][STATE];
  __shared__ float sC[CHUNK][STATE];
  const int blocks = channels / CHANNELS;
  const int segment = blockIdx.x / blocks;
  const int segments = (chunks + segmentChunks - 1) / segmentChunks;
  const int n = threadIdx.x % STATE;
  const int c = threadIdx.x / STATE;
  const int lane = threadIdx.x % 32;
  const int warp = threadIdx.x / 32;
  const int first = (blockIdx.x % blocks) * CHANNELS;
  const int d = first + c;
  const int batch = blockIdx.y;
  const int g = first / (channels / groups);
  const float a = A[d * STATE + n];
  const float a2 = a * LOG2E;
  const size_t row = (size_t) batch * time;
  const float* kept = entering + (((size_t) batch * channels + d) * chunks) * STATE + n;
  // d loss / d h_t, carried back from later steps: what the later segments hand over, then this segment's own
  float dh = 0.0f;
  const size_t carried = ((size_t) batch * channels + d) * segments * STATE + n;
  for (int later = segments - 1; later > segment; --later) {
    dh = local[carried + later * STATE] + decays[carried + later * STATE] * dh;
  }
  float dAsum = 0.0f;
  const int firstChunk = segment * segmentChunks;
  for (int chunk = min(chunks, firstChunk + segmentChunks) - 1; chunk >= firstChunk; --chunk) {
    const int start = chunk * CHUNK;
    const int length = min(CHUNK, time - start);
    for (int i = threadIdx.x; i < length * CHANNELS; i += THREADS) {
      const size_t at = (row + start + i / CHANNELS) * channels + first + i % CHANNELS;
      sU[i / CHANNELS][i % CHANNELS] = u[at];
      sDelta[i / CHANNELS][i % CHANNELS] = delta[at];
      sDy[i / CHANNELS][i % CHANNELS] = dy[at];
    }
    for (int i = threadIdx.x; i < length * STATE; i += THREADS) {
      const size_t bc = ((row + start + i / STATE) * groups + g) * STATE + i % STATE;
      sB[i / STATE][i % STATE] = B[bc];
      sC[i / STATE][i % STATE] = C[bc];
    }
    __syncthreads();
    // the state entering each span of the chunk, recomputed from the chunk's
    float borders[SPANS];
    float h = kept[chunk * STATE];
    borders[0] = h;
#pragma unroll
    for (int k = 0; k < CHUNK - SPAN; ++k) {
      if (k < length) {
        const float dt = sDelta[k][c];
        h = exp2f(dt * a2) * h + dt * sB[k][n] * sU[k][c];
      }
      if ((k + 1) % SPAN == 0) {
        borders[(k + 1) / SPAN] = h;
      }
    }
#pragma unroll
    for (int span = SPANS - 1; span >= 0; --span) {
      const int spanStart = span * SPAN;   // within the chunk
      const int spanLength = min(SPAN, length - spanStart);
      if (spanLength <= 0) {
        continue;
      }
      const float h0 = borders[span];
      float states[SPAN];
      h = h0;
#pragma unroll
      for (int k = 0; k < SPAN; ++k) {
        if (k < spanLength) {
          const float dt = sDelta[spanStart + k][c];
          h = exp2f(dt * a2) * h + dt * sB[spanStart + k][n] * sU[spanStart + k][c];
          states[k] = h;
        }
      }
#pragma unroll
      for (int k = SPAN - 1; k >= 0; --k) {
        if (k < spanLength) {
          const int step = spanStart + k;
          const float dt = sDelta[step][c];
          const float x = sU[step][c];
          const float b = sB[step][n];
          const float grad = sDy[step][c];
          const float decay = exp2f(dt * a2);
          const float before = k > 0 ? states[k > 0 ? k - 1 : 0] : h0;  // (the inner test keeps the index in range)
          dh += grad * sC[step][n];
          const float dDecay = dh * before * decay;   // d loss / d (dt a), this state's share
          dAsum += dDecay * dt;
          const float dInput = sum_states(dh * b);   // d loss / d (dt u)
          const float dDelta = sum_states(dDecay * a) + dInput * x;
          if (n == 0) {
            const size_t at = (row + start + step) * channels + d;
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
      for (int i = threadIdx.x; i < spanLength * STATE; i += blockDim.x) {
        float sumB = 0.0f;
        float sumC = 0.0f;
#pragma unroll
        for (int w = 0; w < WARPS; ++w) {
          sumB += warpB[w][i];
          sumC += warpC[w][i];
        }
        const size_t bc = ((row + start + spanStart + i / STATE) * groups + g) * STATE + i % STATE;
        atomicAdd(&dB[bc], sumB);
        atomicAdd(&dC[bc], sumC);
      }
      __syncthreads();
    }
  }
  atomicAdd(&dA[d * STATE + n], dAsum);   // one add per segment
}
