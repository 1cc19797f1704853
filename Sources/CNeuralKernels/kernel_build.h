// How the kernels of this target are built: three times each (AVX-512, AVX2, the x86-64
// baseline), the loader picking the widest the processor runs. The target is compiled with
// -ffp-contract=off (Package.swift): each product and sum rounds on its own, as in Swift,
// which never fuses them, so a kernel gives the same bits as the Swift it replaces.
#ifndef PERTURBOT_NEURAL_KERNEL_BUILD_H
#define PERTURBOT_NEURAL_KERNEL_BUILD_H

#if defined(__x86_64__) && defined(__clang__)
#define NEURAL_KERNEL __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define NEURAL_KERNEL
#endif

#endif
