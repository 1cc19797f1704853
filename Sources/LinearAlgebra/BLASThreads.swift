import COpenBLAS

/// OpenBLAS's thread pool size.
///
/// The hand-written networks multiply small matrices (a batch of 128–256 rows by 64 units)
/// thousands of times a second; OpenBLAS splits some of those across threads whose spin-waits
/// (sched_yield) then cost more than the products, so neural training runs its BLAS calls on
/// one thread. The setting is process-wide: concurrent callers only change each other's speed,
/// never a result.
public enum BLASThreads {
    /// Runs `body` with OpenBLAS limited to one thread, then restores the previous count.
    public static func withSingleThread<T>(_ body: () throws -> T) rethrows -> T {
        let previous = openblas_get_num_threads()
        guard previous > 1 else { return try body() }
        openblas_set_num_threads(1)
        defer { openblas_set_num_threads(previous) }
        return try body()
    }
}
