// What NVRTC provides without any include, declared for bench/cuda/syntax-check.sh (clang, no CUDA toolkit)
#define __global__ __attribute__((global))
#define __device__ __attribute__((device))
#define __shared__ __attribute__((shared))
#define __forceinline__ __inline__ __attribute__((always_inline))
#define __restrict__ __restrict
struct __cuda_builtin_uint3 { unsigned int x, y, z; };
extern const __device__ __cuda_builtin_uint3 threadIdx, blockIdx, blockDim, gridDim;
__device__ float exp2f(float); __device__ float log2f(float); __device__ float fmaxf(float, float);
__device__ float fminf(float, float); __device__ float rsqrtf(float); __device__ float sqrtf(float); __device__ float expf(float); __device__ float logf(float); __device__ float log1pf(float);
__device__ float __int_as_float(int); __device__ float __uint_as_float(unsigned int); __device__ unsigned int __float_as_uint(float);
__device__ int __float_as_int(float);
__device__ float __shfl_xor_sync(unsigned int, float, int, int = 32); __device__ float __shfl_down_sync(unsigned int, float, unsigned int, int = 32);
__device__ float __shfl_sync(unsigned int, float, int, int = 32); __device__ float __shfl_up_sync(unsigned int, float, unsigned int, int = 32);
typedef unsigned long size_t;
__device__ void __syncthreads(); __device__ void __syncwarp(unsigned int = 0xffffffffu);
__device__ float atomicAdd(float*, float);
#define warpSize 32
__device__ int min(int, int); __device__ int max(int, int);
#define __launch_bounds__(...) __attribute__((launch_bounds(__VA_ARGS__)))
