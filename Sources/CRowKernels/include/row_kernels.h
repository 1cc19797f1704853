// The inner loop of Sinkhorn's row-wise log-sum-exps, in C so that it can be compiled for the
// vector units the processor has (AVX-512, AVX2 + FMA, or the x86-64 baseline), picked once at
// load time; Swift code is compiled for the baseline only.
#ifndef PERTURBOT_ROW_KERNELS_H
#define PERTURBOT_ROW_KERNELS_H

/// Σ_j exp(offsets_j − cost_j·inverse_epsilon − shift), with the same polynomial exponential
/// as `TransportScalar.exponential` (Cody–Waite reduction, Taylor degree 7; inputs clamped to
/// [−87.3, 88.3]).
float perturbot_shifted_exp_sum_f32(const float *cost, const float *offsets, long count,
                                    float inverse_epsilon, float shift);

/// The Double version (Taylor degree 13; inputs clamped to [−708.3, 709]).
double perturbot_shifted_exp_sum_f64(const double *cost, const double *offsets, long count,
                                     double inverse_epsilon, double shift);

/// Writes v_j = offsets_j − cost_j·inverse_epsilon to `output` (which may be `cost`) and
/// returns max_j v_j (−∞ for count 0).
float perturbot_exponents_max_f32(const float *cost, const float *offsets, long count, float inverse_epsilon,
                                  float *output);
double perturbot_exponents_max_f64(const double *cost, const double *offsets, long count, double inverse_epsilon,
                                   double *output);

/// Σ_j exp(values_j − shift), writing each exponential back over values_j when `store` is non-zero.
float perturbot_exp_sum_f32(float *values, long count, float shift, int store);
double perturbot_exp_sum_f64(double *values, long count, double shift, int store);

/// The instruction set the kernels run with on this machine: "avx512", "avx2" or "baseline".
const char *perturbot_row_kernel_isa(void);

#endif
