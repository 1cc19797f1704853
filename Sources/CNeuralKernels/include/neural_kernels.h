// Element-wise loops of neural-network training, in C so that they can be compiled for the
// vector units the processor has (AVX-512, AVX2, or the x86-64 baseline), picked once at load
// time; Swift code is compiled for the baseline only.
#ifndef PERTURBOT_NEURAL_KERNELS_H
#define PERTURBOT_NEURAL_KERNELS_H

/// One Adam step (Kingma & Ba 2015) on `count` parameters, moments kept in double:
///   m ← β₁m + (1 − β₁)g,  v ← β₂v + (1 − β₂)g²,  θ ← θ − lr·(m/c₁)/(√(v/c₂) + ε)
/// with c₁ = 1 − β₁ᵗ and c₂ = 1 − β₂ᵗ. The operations and their order are those of
/// `Adam.step`'s Swift loop, without contraction into fused multiply-adds, so the result is
/// the same to the bit.
void perturbot_adam_step_f32(float *parameters, const float *gradient, double *first, double *second, long count,
                             double beta1, double beta2, double learning_rate, double correction1,
                             double correction2, double epsilon);
void perturbot_adam_step_f64(double *parameters, const double *gradient, double *first, double *second, long count,
                             double beta1, double beta2, double learning_rate, double correction1,
                             double correction2, double epsilon);

/// out_i = σ(h_i), or σ(h_i)² when `squared`, with σ the leaky ReLU of negative slope `slope`
/// (`out` may be `pre`).
void perturbot_leaky_activation_f32(const float *pre, float *out, long count, float slope, int squared);
void perturbot_leaky_activation_f64(const double *pre, double *out, long count, double slope, int squared);

/// out_i = values_i · dz/dh at h_i: σ'(h_i), or 2σ(h_i)σ'(h_i) when `squared` (the chain rule
/// through a layer's activation; `out` may be `values`).
void perturbot_leaky_chain_f32(const float *values, const float *pre, float *out, long count, float slope,
                               int squared);
void perturbot_leaky_chain_f64(const double *values, const double *pre, double *out, long count, double slope,
                               int squared);

/// out_i = values_i · tangent_i · 2σ'(h_i)², the second derivative of σ(h)² along a tangent
/// (`out` may be `values`).
void perturbot_leaky_square_curvature_f32(const float *values, const float *tangent, const float *pre, float *out,
                                          long count, float slope);
void perturbot_leaky_square_curvature_f64(const double *values, const double *tangent, const double *pre,
                                          double *out, long count, double slope);

#endif
