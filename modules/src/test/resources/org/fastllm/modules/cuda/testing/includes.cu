// a kernel source for the include test
#include "../../cuda/bf16.cuh"
#include "../../cuda/bf16.cuh"
int after;
