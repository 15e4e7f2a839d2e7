// The selective scan kernels of modules/.../ssm/selective_scan.cu against an earlier version of them, in one process:
// the same random inputs through both, the largest difference of every output, and the median time of each kernel
// (CUDA events, 20 runs after 3 of warm-up). Built by bench/gpu/scan_bench.sh, which copies the earlier version to
// scan_before.cu with its kernels renamed before_*, and gives the compile-time constants of one block shape.
// Usage: scan_bench batch time channels groups
#include <cstdio>
#include <cstdlib>
#include <vector>
#include <algorithm>
#include <random>
#include <cmath>
#include <cuda_runtime.h>

namespace before {
#include "scan_before.cu"
}
#undef WARPS
#undef SPAN
#undef SPANS
#undef BACKWARD_BLOCKS
#undef THREADS
#undef ROW_LOADS
#undef GROUP_LOADS
#include "selective_scan.cu"

#define CHECK(call) do { cudaError_t e = (call); if (e != cudaSuccess) { \
  std::fprintf(stderr, "%s:%d %s\n", __FILE__, __LINE__, cudaGetErrorString(e)); std::exit(1); } } while (0)

struct Buffers {
  float *u, *delta, *a, *b, *c, *y, *entering, *dy, *du, *ddelta, *da, *db, *dc, *local, *decays;
};

static float* device_copy(const std::vector<float>& host) {
  float* p;
  CHECK(cudaMalloc(&p, host.size() * sizeof(float)));
  CHECK(cudaMemcpy(p, host.data(), host.size() * sizeof(float), cudaMemcpyHostToDevice));
  return p;
}

static float* device_zeros(size_t n) {
  float* p;
  CHECK(cudaMalloc(&p, n * sizeof(float)));
  CHECK(cudaMemset(p, 0, n * sizeof(float)));
  return p;
}

static std::vector<float> host_copy(const float* p, size_t n) {
  std::vector<float> out(n);
  CHECK(cudaMemcpy(out.data(), p, n * sizeof(float), cudaMemcpyDeviceToHost));
  return out;
}

static double largest_difference(const std::vector<float>& x, const std::vector<float>& y) {
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    worst = std::max(worst, (double) std::fabs(x[i] - y[i]));
  }
  return worst;
}

template <typename Launch>
static double median_ms(Launch launch) {
  cudaEvent_t start, stop;
  CHECK(cudaEventCreate(&start));
  CHECK(cudaEventCreate(&stop));
  std::vector<float> runs;
  for (int i = -3; i < 20; ++i) {
    CHECK(cudaEventRecord(start));
    launch();
    CHECK(cudaEventRecord(stop));
    CHECK(cudaEventSynchronize(stop));
    float ms;
    CHECK(cudaEventElapsedTime(&ms, start, stop));
    if (i >= 0) {
      runs.push_back(ms);
    }
  }
  CHECK(cudaGetLastError());
  std::sort(runs.begin(), runs.end());
  return runs[runs.size() / 2];
}

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: scan_bench batch time channels groups\n");
    return 2;
  }
  const int batch = std::atoi(argv[1]), time = std::atoi(argv[2]), channels = std::atoi(argv[3]),
      groups = std::atoi(argv[4]);
  const int chunks = (time + CHUNK - 1) / CHUNK;
  const size_t rows = (size_t) batch * time * channels, bcs = (size_t) batch * time * groups * STATE;
  std::mt19937 random(1);
  std::normal_distribution<float> normal;
  std::uniform_real_distribution<float> uniform;
  auto fill = [&](size_t n, auto draw) { std::vector<float> v(n); for (auto& x : v) x = draw(); return v; };
  std::vector<float> u = fill(rows, [&] { return normal(random); });
  std::vector<float> delta = fill(rows, [&] { return 0.1f * uniform(random); });
  std::vector<float> a = fill((size_t) channels * STATE, [&] { return -uniform(random); });
  std::vector<float> b = fill(bcs, [&] { return normal(random); });
  std::vector<float> c = fill(bcs, [&] { return normal(random); });
  std::vector<float> dy = fill(rows, [&] { return normal(random); });

  int device;
  CHECK(cudaGetDevice(&device));
  int multiprocessors;
  CHECK(cudaDeviceGetAttribute(&multiprocessors, cudaDevAttrMultiProcessorCount, device));
  const dim3 grid(channels / CHANNELS, batch), threads(CHANNELS * STATE);
  // the segments as CudaScanKernels chooses them (auto), from a kernel's own occupancy; the forward's at least 4
  auto segment_chunks = [&](const void* kernel, bool forward) {
    int perMultiprocessor;
    CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&perMultiprocessor, kernel, CHANNELS * STATE, 0));
    long blocks = (long) grid.x * batch, resident = (long) perMultiprocessor * multiprocessors;
    long fit = std::min(resident / blocks, std::min((long) chunks / 4, 64L));
    int segments = (int) std::max(1L, fit);
    segments = forward && segments < 4 ? 1 : segments;
    return (chunks + segments - 1) / segments;
  };
  auto count = [&](int segmentChunks) { return (chunks + segmentChunks - 1) / segmentChunks; };
  const char* versions[] = {"before", "now"};
  std::vector<std::vector<float>> outputs[2];
  double times[2][2];
  for (int v = 0; v < 2; ++v) {
    Buffers m{device_copy(u), device_copy(delta), device_copy(a), device_copy(b), device_copy(c),
              device_zeros(rows), device_zeros((size_t) batch * channels * chunks * STATE), device_copy(dy),
              device_zeros(rows), device_zeros(rows), device_zeros((size_t) channels * STATE), device_zeros(bcs),
              device_zeros(bcs), nullptr, nullptr};
    const int backwardChunks = segment_chunks(v == 0 ? (const void*) before::before_selective_scan_backward
        : (const void*) selective_scan_backward, false);
    const int forwardChunks = v == 0 ? chunks : segment_chunks((const void*) selective_scan_forward, true);
    const int most = std::max(count(backwardChunks), count(forwardChunks));
    m.local = device_zeros((size_t) batch * channels * most * STATE);
    m.decays = device_zeros((size_t) batch * channels * most * STATE);
    auto forward = [&] {
      if (v == 0) {
        before::before_selective_scan_forward<<<grid, threads>>>(m.u, m.delta, m.a, m.b, m.c, m.y, m.entering, time,
            channels, groups, chunks);
        return;
      }
      const int segments = count(forwardChunks);
      if (segments > 1) {
        selective_scan_forward_carry<<<dim3(grid.x * (segments - 1), batch), threads>>>(m.u, m.delta, m.a, m.b,
            m.local, m.decays, time, channels, groups, chunks, forwardChunks);
      }
      selective_scan_forward<<<dim3(grid.x * segments, batch), threads>>>(m.u, m.delta, m.a, m.b, m.c, m.y,
          m.entering, m.local, m.decays, time, channels, groups, chunks, forwardChunks);
    };
    auto backward = [&] {
      const int segments = count(backwardChunks);
      CHECK(cudaMemsetAsync(m.da, 0, (size_t) channels * STATE * sizeof(float)));
      CHECK(cudaMemsetAsync(m.db, 0, bcs * sizeof(float)));
      CHECK(cudaMemsetAsync(m.dc, 0, bcs * sizeof(float)));
      auto carry = v == 0 ? before::before_selective_scan_backward_carry : selective_scan_backward_carry;
      auto walk = v == 0 ? before::before_selective_scan_backward : selective_scan_backward;
      if (segments > 1) {
        carry<<<dim3(grid.x * (segments - 1), batch), threads>>>(m.delta, m.a, m.c, m.dy, m.local, m.decays, time,
            channels, groups, chunks, backwardChunks);
      }
      walk<<<dim3(grid.x * segments, batch), threads>>>(m.u, m.delta, m.a, m.b, m.c, m.entering, m.dy, m.du,
          m.ddelta, m.da, m.db, m.dc, m.local, m.decays, time, channels, groups, chunks, backwardChunks);
    };
    times[v][0] = median_ms(forward);
    times[v][1] = median_ms(backward);
    std::printf("scan kernels %-6s b=%d t=%d D=%d G=%d N=%d (%d channels a block; segments: forward %d, backward %d):"
                " forward %.3f ms, backward %.3f ms, both %.3f ms\n", versions[v], batch, time, channels, groups,
                STATE, CHANNELS, count(forwardChunks), count(backwardChunks), times[v][0], times[v][1],
                times[v][0] + times[v][1]);
    for (float* p : {m.y, m.entering, m.du, m.ddelta, m.da, m.db, m.dc}) {
      size_t n = p == m.y || p == m.du || p == m.ddelta ? rows : p == m.entering
          ? (size_t) batch * channels * chunks * STATE : p == m.da ? (size_t) channels * STATE : bcs;
      outputs[v].push_back(host_copy(p, n));
    }
    for (float* p : {m.u, m.delta, m.a, m.b, m.c, m.y, m.entering, m.dy, m.du, m.ddelta, m.da, m.db, m.dc, m.local,
                     m.decays}) {
      CHECK(cudaFree(p));
    }
  }
  const char* names[] = {"y", "entering", "du", "ddelta", "dA", "dB", "dC"};
  std::printf("scan kernels now against before, largest difference:");
  for (int i = 0; i < 7; ++i) {
    std::printf(" %s %.1e", names[i], largest_difference(outputs[0][i], outputs[1][i]));
  }
  std::printf("\nscan kernels before / now: forward %.2fx, backward %.2fx, both %.2fx\n", times[0][0] / times[1][0],
      times[0][1] / times[1][1], (times[0][0] + times[0][1]) / (times[1][0] + times[1][1]));
  return 0;
}
