#include "missing.cuh"
