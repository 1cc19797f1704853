#include "neural_kernels.h"
#include "kernel_build.h"

#include <math.h>

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
