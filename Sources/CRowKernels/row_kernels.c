#include "row_kernels.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

// Each kernel is compiled three times and the loader picks the widest the processor runs:
// the loops below vectorise (no calls, no branches) to 16 / 8 / 4 float lanes.
#if defined(__x86_64__) && defined(__clang__)
#define ROW_KERNEL __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define ROW_KERNEL
#endif

// Lanes summed separately, as the SIMD code does, so the compiler may vectorise the sum
// without reassociating floating-point additions on its own.
#define LANES 16

static inline float exp_f32(float x) {
    x = x < -87.3f ? -87.3f : (x > 88.3f ? 88.3f : x);
    // Adding 1.5·2²³ rounds x·log2(e) to an integer k held in the low significand bits.
    const float rounding_shift = 12582912.0f;
    float shifted = x * 1.44269504f + rounding_shift;
    float k = shifted - rounding_shift;
    float r = x - k * 0.693359375f + k * 2.1219444e-4f;
    float p = 1.0f / 5040;
    p = p * r + 1.0f / 720;
    p = p * r + 1.0f / 120;
    p = p * r + 1.0f / 24;
    p = p * r + 1.0f / 6;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    int32_t bits;
    memcpy(&bits, &shifted, sizeof bits);
    int32_t exponent = (bits - 0x4B400000 + 127) << 23;
    float scale;
    memcpy(&scale, &exponent, sizeof scale);
    return p * scale;
}

static inline double exp_f64(double x) {
    x = x < -708.3 ? -708.3 : (x > 709.0 ? 709.0 : x);
    const double rounding_shift = 6755399441055744.0;  // 1.5·2⁵²
    double shifted = x * 1.4426950408889634 + rounding_shift;
    double k = shifted - rounding_shift;
    double r = x - k * 6.9314718036912382e-1 - k * 1.9082149292705877e-10;
    double p = 1.0 / 6227020800.0;
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    int64_t bits;
    memcpy(&bits, &shifted, sizeof bits);
    int64_t exponent = (bits - 0x4338000000000000LL + 1023) << 52;
    double scale;
    memcpy(&scale, &exponent, sizeof scale);
    return p * scale;
}

#define SHIFTED_EXP_SUM(NAME, T, EXP)                                                            \
    ROW_KERNEL                                                                                   \
    T NAME(const T *restrict cost, const T *restrict offsets, long count, T inverse_epsilon,      \
           T shift) {                                                                            \
        T lanes[LANES] = {0};                                                                    \
        long j = 0;                                                                              \
        for (; j + LANES <= count; j += LANES) {                                                 \
            for (int l = 0; l < LANES; l++) {                                                    \
                lanes[l] += EXP(offsets[j + l] - cost[j + l] * inverse_epsilon - shift);         \
            }                                                                                    \
        }                                                                                        \
        T sum = 0;                                                                               \
        for (int l = 0; l < LANES; l++) sum += lanes[l];                                         \
        for (; j < count; j++) sum += EXP(offsets[j] - cost[j] * inverse_epsilon - shift);       \
        return sum;                                                                              \
    }

SHIFTED_EXP_SUM(perturbot_shifted_exp_sum_f32, float, exp_f32)
SHIFTED_EXP_SUM(perturbot_shifted_exp_sum_f64, double, exp_f64)

// One lane-wise pass v = offsets − SOURCE·inverse_epsilon into TARGET, tracking the maximum.
#define EXPONENTS_PASS(T, SOURCE, TARGET)                                                         \
    for (; j + LANES <= count; j += LANES) {                                                     \
        for (int l = 0; l < LANES; l++) {                                                        \
            T v = offsets[j + l] - SOURCE[j + l] * inverse_epsilon;                              \
            TARGET[j + l] = v;                                                                   \
            lanes[l] = v > lanes[l] ? v : lanes[l];                                              \
        }                                                                                        \
    }

// In place (softmax) the loop goes through one pointer: with two pointers to the same memory
// the vectoriser's overlap check would send it down the scalar path.
#define EXPONENTS_MAX(NAME, T)                                                                   \
    ROW_KERNEL                                                                                   \
    T NAME(const T *cost, const T *restrict offsets, long count, T inverse_epsilon, T *output) {  \
        T lanes[LANES];                                                                          \
        for (int l = 0; l < LANES; l++) lanes[l] = -(T)INFINITY;                                 \
        long j = 0;                                                                              \
        if ((const T *)output == cost) {                                                         \
            T *values = output;                                                                  \
            EXPONENTS_PASS(T, values, values)                                                    \
        } else {                                                                                 \
            const T *restrict source = cost;                                                     \
            T *restrict target = output;                                                         \
            EXPONENTS_PASS(T, source, target)                                                    \
        }                                                                                        \
        T maximum = -(T)INFINITY;                                                                \
        for (int l = 0; l < LANES; l++) maximum = lanes[l] > maximum ? lanes[l] : maximum;       \
        for (; j < count; j++) {                                                                 \
            T v = offsets[j] - cost[j] * inverse_epsilon;                                        \
            output[j] = v;                                                                       \
            maximum = v > maximum ? v : maximum;                                                 \
        }                                                                                        \
        return maximum;                                                                          \
    }

EXPONENTS_MAX(perturbot_exponents_max_f32, float)
EXPONENTS_MAX(perturbot_exponents_max_f64, double)

#define EXP_SUM(NAME, T, EXP)                                                                    \
    ROW_KERNEL                                                                                   \
    T NAME(T *restrict values, long count, T shift, int store) {                                 \
        T lanes[LANES] = {0};                                                                    \
        long j = 0;                                                                              \
        if (store) {                                                                             \
            for (; j + LANES <= count; j += LANES) {                                             \
                for (int l = 0; l < LANES; l++) {                                                \
                    T e = EXP(values[j + l] - shift);                                            \
                    values[j + l] = e;                                                           \
                    lanes[l] += e;                                                               \
                }                                                                                \
            }                                                                                    \
        } else {                                                                                 \
            for (; j + LANES <= count; j += LANES) {                                             \
                for (int l = 0; l < LANES; l++) lanes[l] += EXP(values[j + l] - shift);          \
            }                                                                                    \
        }                                                                                        \
        T sum = 0;                                                                               \
        for (int l = 0; l < LANES; l++) sum += lanes[l];                                         \
        for (; j < count; j++) {                                                                 \
            T e = EXP(values[j] - shift);                                                        \
            if (store) values[j] = e;                                                            \
            sum += e;                                                                            \
        }                                                                                        \
        return sum;                                                                              \
    }

EXP_SUM(perturbot_exp_sum_f32, float, exp_f32)
EXP_SUM(perturbot_exp_sum_f64, double, exp_f64)

const char *perturbot_row_kernel_isa(void) {
#if defined(__x86_64__) && defined(__clang__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("x86-64-v4")) return "avx512";
    if (__builtin_cpu_supports("x86-64-v3")) return "avx2";
#endif
    return "baseline";
}
