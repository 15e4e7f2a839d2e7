// kernels for the signature test: each way the project's sources declare parameters
#include "../bf16.cuh"

#if BF16
typedef unsigned short element;
#else
typedef float element;
#endif

extern "C" __global__ void scale(const element* __restrict__ x, element* __restrict__ out, /* the factor */ float by,
    int n) {
}

extern "C" __global__ void __launch_bounds__(256, (4)) walk(const float* __restrict__ x, long long count,
    unsigned int flags, float tables[]) {
}

#if WIDE
extern "C" __global__ void pick(const float* x, long long i) {}
#else
extern "C" __global__ void pick(const float* x, int i) {}
#endif

extern "C" __global__ void nothing() {}

extern "C" __global__ void wide(double d, float f) {}

__global__ void not_extern_c(int n) {}
