// The generic passes call C kernels of one precision after checking `Scalar.self == Float.self`
// (or Double): these give the same memory the kernel's pointer type, which is then exact.
extension UnsafeMutablePointer {
    @inline(__always)
    func typed<T>(_: T.Type) -> UnsafeMutablePointer<T> {
        UnsafeMutableRawPointer(self).assumingMemoryBound(to: T.self)
    }
}

extension UnsafePointer {
    @inline(__always)
    func typed<T>(_: T.Type) -> UnsafePointer<T> {
        UnsafeRawPointer(self).assumingMemoryBound(to: T.self)
    }
}
