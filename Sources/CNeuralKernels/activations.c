#include "neural_kernels.h"
#include "kernel_build.h"

// The leaky-ReLU passes of the ICNN, as `LeakyReLUKernels`' Swift fallback writes them: the
// same operations in the same order.

#define LEAKY_KERNELS(SUFFIX, SCALAR)                                                                  \
    NEURAL_KERNEL void perturbot_leaky_activation_##SUFFIX(const SCALAR *pre, SCALAR *out, long count,  \
                                                          SCALAR slope, int squared) {                  \
        for (long i = 0; i < count; i++) {                                                              \
            SCALAR h = pre[i];                                                                          \
            SCALAR a = h > 0 ? h : slope * h;                                                           \
            out[i] = squared ? a * a : a;                                                               \
        }                                                                                               \
    }                                                                                                   \
                                                                                                        \
    NEURAL_KERNEL void perturbot_leaky_chain_##SUFFIX(const SCALAR *values, const SCALAR *pre,          \
                                                     SCALAR *out, long count, SCALAR slope,             \
                                                     int squared) {                                     \
        for (long i = 0; i < count; i++) {                                                              \
            SCALAR h = pre[i];                                                                          \
            SCALAR s = h > 0 ? 1 : slope;                                                               \
            SCALAR a = h > 0 ? h : slope * h;                                                           \
            out[i] = values[i] * (squared ? 2 * a * s : s);                                             \
        }                                                                                               \
    }                                                                                                   \
                                                                                                        \
    NEURAL_KERNEL void perturbot_leaky_square_curvature_##SUFFIX(const SCALAR *values,                  \
                                                                const SCALAR *tangent,                  \
                                                                const SCALAR *pre, SCALAR *out,         \
                                                                long count, SCALAR slope) {             \
        for (long i = 0; i < count; i++) {                                                              \
            SCALAR s = pre[i] > 0 ? 1 : slope;                                                          \
            out[i] = values[i] * tangent[i] * 2 * s * s;                                                \
        }                                                                                               \
    }

LEAKY_KERNELS(f32, float)
LEAKY_KERNELS(f64, double)
