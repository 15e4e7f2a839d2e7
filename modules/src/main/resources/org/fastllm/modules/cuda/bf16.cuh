// bfloat16 to and from float32 by their bits, for the kernels compiled at run time (NVRTC has no cuda_bf16.h without
// the CUDA toolkit's headers). A kernel source takes it with #include "../cuda/bf16.cuh", which
// org.fastllm.modules.cuda.RuntimeKernels inlines before compiling.

__device__ __forceinline__ float load_bf16(unsigned short v) { return __uint_as_float(((unsigned int) v) << 16); }

__device__ __forceinline__ unsigned short store_bf16(float f) {
  unsigned int bits = __float_as_uint(f);
  if ((bits & 0x7fffffffu) > 0x7f800000u) {
    return (unsigned short) 0x7fc0;   // NaN stays NaN
  }
  bits += 0x7fffu + ((bits >> 16) & 1u);   // round to nearest, ties to even
  return (unsigned short) (bits >> 16);
}
