// glibc's allocator settings, which Swift cannot reach (malloc.h is not in the Glibc module).
#ifndef PERTURBOT_CALLOCATOR_H
#define PERTURBOT_CALLOCATOR_H

/// Serves allocations below `mmap_threshold` bytes from the heap and keeps up to
/// `trim_threshold` bytes of freed heap instead of returning it; returns 0 when either setting
/// was refused (non-glibc systems: always 0, nothing changed).
int perturbot_set_allocator_thresholds(long mmap_threshold, long trim_threshold);

#endif
