#include "neural_kernels.h"

#include <math.h>

// Compiled three times; the loader picks the widest build the processor runs. The file is
// built with -ffp-contract=off (Package.swift): each product and sum rounds on its own, as in
// Swift, which never fuses them.
#if defined(__x86_64__) && defined(__clang__)
#define NEURAL_KERNEL __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define NEURAL_KERNEL
#endif

#define ADAM_STEP(NAME, SCALAR)                                                                        \
    NEURAL_KERNEL void NAME(SCALAR *parameters, const SCALAR *gradient, double *first, double *second,  \
                            long count, double beta1, double beta2, double learning_rate,               \
                            double correction1, double correction2, double epsilon) {                   \
        for (long i = 0; i < count; i++) {                                                              \
            double g = (double)gradient[i];                                                             \
            double mean = beta1 * first[i] + (1 - beta1) * g;                                           \
            double square = beta2 * second[i] + (1 - beta2) * g * g;                                    \
            first[i] = mean;                                                                            \
            second[i] = square;                                                                         \
            parameters[i] -= (SCALAR)(learning_rate * (mean / correction1) /                            \
                                      (sqrt(square / correction2) + epsilon));                          \
        }                                                                                               \
    }

ADAM_STEP(perturbot_adam_step_f32, float)
ADAM_STEP(perturbot_adam_step_f64, double)
