// swift-tools-version:6.0
import PackageDescription

/// The numeric kernels use SIMD types, which are hundreds of times slower unoptimised: build
/// them with -O in debug too, so `swift test` runs at a useful speed.
let optimisedEvenInDebug: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
    name: "perturbot",
    products: [
        .executable(name: "perturbot", targets: ["perturbot"]),
        .library(name: "LinearAlgebra", targets: ["LinearAlgebra"]),
        .library(name: "AnnData", targets: ["AnnData"]),
        .library(name: "Transport", targets: ["Transport"]),
        .library(name: "Methods", targets: ["Methods"]),
        .library(name: "Pipeline", targets: ["Pipeline"]),
    ],
    // Exact versions: perturbot ships an executable, so the versions it was tested with are the
    // versions it builds with. (Package.resolved is not committed: the package mirrors of the
    // machines this is developed and tested on carry commit ids of their own, which a
    // Package.resolved would pin for everyone.)
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "3.12.3"),
    ],
    targets: [
        .systemLibrary(name: "CHDF5", path: "Sources/CHDF5"),
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS"),
        .target(name: "CAllocator"),
        // -O3 in every configuration: the kernels exist to be vectorised.
        .target(name: "CRowKernels", cSettings: [.unsafeFlags(["-O3", "-ffp-contract=fast"])]),
        // No contraction: the optimiser's arithmetic must match its Swift definition to the bit.
        .target(name: "CNeuralKernels", cSettings: [.unsafeFlags(["-O3", "-ffp-contract=off", "-fno-math-errno"])]),
        .target(name: "LinearAlgebra", dependencies: ["COpenBLAS"]),
        // How far a long fit is, reported by the solvers and shown by the runner and the commands.
        .target(name: "Progress"),
        .target(name: "AnnData", dependencies: ["CHDF5", "LinearAlgebra"]),
        .target(name: "Transport", dependencies: ["LinearAlgebra", "Progress", "CRowKernels"], swiftSettings: optimisedEvenInDebug),
        .target(name: "NeuralTransport", dependencies: ["Transport", "LinearAlgebra", "Progress", "CNeuralKernels"], swiftSettings: optimisedEvenInDebug),
        .target(name: "InverseTransport", dependencies: ["Transport", "LinearAlgebra", "Progress"], swiftSettings: optimisedEvenInDebug),
        .target(name: "Methods", dependencies: ["Transport", "NeuralTransport", "LinearAlgebra"]),
        // Synthetic data with a known truth: the demo, sc-RNA-like screens, the GMM map benchmark,
        // the inverse-OT graph, blurred images.
        .target(name: "Datasets", dependencies: ["AnnData", "LinearAlgebra", "Transport", "InverseTransport"]),
        .target(name: "Stages", dependencies: ["Methods", "Datasets", "Scoring", "Transport", "NeuralTransport", "InverseTransport", "AnnData", "LinearAlgebra"]),
        // The field's evaluation: cell-eval's metrics and DE (pdex), pertpy's energy distance.
        .target(name: "Scoring", dependencies: ["AnnData", "LinearAlgebra"], swiftSettings: optimisedEvenInDebug),
        .target(name: "Reports"),
        .target(
            name: "Pipeline",
            dependencies: [
                "Stages", "Methods", "Datasets", "Reports", "AnnData", "LinearAlgebra", "Progress",
                .product(name: "Yams", package: "Yams"), .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .executableTarget(
            name: "perturbot",
            dependencies: [
                "AnnData", "LinearAlgebra", "Progress", "Transport", "NeuralTransport", "InverseTransport", "Methods", "Datasets", "Scoring", "Stages", "Pipeline", "Reports",
                "CAllocator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "LinearAlgebraTests", dependencies: ["LinearAlgebra"]),
        .testTarget(name: "AnnDataTests", dependencies: ["AnnData", "LinearAlgebra", "TestSupport"]),
        .testTarget(name: "TransportTests", dependencies: ["Transport", "LinearAlgebra", "TestSupport"]),
        .testTarget(name: "NeuralTransportTests", dependencies: ["NeuralTransport", "Transport", "LinearAlgebra"]),
        .testTarget(name: "InverseTransportTests", dependencies: ["InverseTransport", "Transport", "LinearAlgebra"]),
        .testTarget(name: "MethodsTests", dependencies: ["Methods", "Transport", "NeuralTransport", "TestSupport"]),
        .testTarget(name: "ScoringTests", dependencies: ["Scoring", "AnnData", "LinearAlgebra", "TestSupport"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "Stages", "AnnData", "LinearAlgebra", "Transport", "NeuralTransport", "TestSupport"]),
        .testTarget(name: "StagesTests", dependencies: ["Stages", "Datasets", "AnnData", "LinearAlgebra", "Transport", "Scoring", "TestSupport"]),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "Methods", "Datasets", "Stages", "Reports", "AnnData", "Progress", "Transport", "TestSupport"]),
        .testTarget(name: "PerturbotCLITests", dependencies: ["perturbot", "Reports", "AnnData", "LinearAlgebra", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
