#include "allocator.h"

#include <stdlib.h>  // defines __GLIBC__ on glibc systems

#if defined(__GLIBC__)
#include <malloc.h>

int perturbot_set_allocator_thresholds(long mmap_threshold, long trim_threshold) {
    int mmap_ok = mallopt(M_MMAP_THRESHOLD, (int)mmap_threshold);
    int trim_ok = mallopt(M_TRIM_THRESHOLD, (int)trim_threshold);
    return mmap_ok && trim_ok;
}
#else
int perturbot_set_allocator_thresholds(long mmap_threshold, long trim_threshold) {
    (void)mmap_threshold;
    (void)trim_threshold;
    return 0;
}
#endif
