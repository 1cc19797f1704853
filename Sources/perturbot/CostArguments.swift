import ArgumentParser
import Transport

/// The ground-cost options `perturbot ot` and `perturbot coupling` share; λ is each command's
/// own `--lambda`, since `ot` also gives it to sparse_icnn.
struct CostArguments: ParsableArguments {
    @Option(parsing: .unconditional, help: "Ground cost: sqeuclidean (‖x−y‖², the default), pnorm (‖x−y‖_p^p/p), elastic_l1 (½‖x−y‖² + λ‖x−y‖₁) or elastic_stvs (½‖x−y‖² + λ·STVS_γ(x−y), λ ≤ 2); given with --map, the map's cost.")
    var cost: String?

    @Option(parsing: .unconditional, help: "pnorm: the exponent p > 1.")
    var p = GroundCost.defaultParameters.p

    @Option(parsing: .unconditional, help: "elastic_stvs: γ > 0 (displacements below λγ are shrunk to 0).")
    var gamma = GroundCost.defaultParameters.gamma

    /// The cost these options name, with the elastic costs' λ.
    func groundCost(lambda: Double) throws -> GroundCost {
        do {
            return try GroundCost(name: cost ?? GroundCost.squaredEuclidean.name, p: p, lambda: lambda, gamma: gamma)
        } catch TransportError.invalidParameter(let message) {
            throw CommandError("--cost \(cost ?? ""): \(message)")
        }
    }
}
