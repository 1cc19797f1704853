import COpenBLAS

/// OpenBLAS's thread pool size.
///
/// The hand-written networks multiply small matrices (a batch of 128–256 rows by 64 units)
/// thousands of times a second; OpenBLAS splits some of those across threads whose spin-waits
/// (sched_yield) then cost more than the products, so neural training runs its BLAS calls on
/// one thread. The setting is process-wide; the perturbot command keeps it at one thread
/// throughout (`useOneThread`), so that no result depends on the thread count.
public enum BLASThreads {
    /// Limits OpenBLAS to one thread for the rest of the process. A threaded gemm or syrk splits
    /// its sums by the thread count, so results would differ in their last digits between a
    /// laptop, a 64-core node and a 1-CPU cluster job (measured: a Sinkhorn divergence moved by
    /// 3e-9 relative between 1 and 2 threads); perturbot spreads work over the cores itself, in
    /// blocks whose boundaries do not depend on the core count, so its tables do not.
    public static func useOneThread() {
        openblas_set_num_threads(1)
    }

    /// Runs `body` with OpenBLAS limited to one thread, then restores the previous count.
    public static func withSingleThread<T>(_ body: () throws -> T) rethrows -> T {
        let previous = openblas_get_num_threads()
        guard previous > 1 else { return try body() }
        openblas_set_num_threads(1)
        defer { openblas_set_num_threads(previous) }
        return try body()
    }
}
