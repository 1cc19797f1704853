import LinearAlgebra

/// An input-convex neural network (Amos, Xu & Kolter 2017) as CellOT builds it
/// (`cellot/networks/icnns.py`, `configs/models/cellot.yaml`), with hand-written passes:
///
///     z₀ = σ(A₀x + b₀)²
///     z_k = σ(W_{k−1} z_{k−1} + A_k x + b_k)      k = 1 … K−2
///     g(x) = W_{K−2} z_{K−2} + A_{K−1} x + b_{K−1}  (scalar)
///
/// with σ the leaky ReLU of slope 0.2 and K = hidden layers + 1. g is convex in x when every
/// W is ≥ 0: σ(t)² (t² or 0.04t²) is convex, σ is convex and non-decreasing, so each layer is a
/// convex function of x, and non-negative sums of convex functions plus affine terms stay
/// convex. CellOT keeps W ≥ 0 by clamping after each optimiser step, and penalises negative
/// entries in g's loss (`negativeWeightPenalty`).
/// Defaults from CellOT's config: hidden units [64, 64, 64, 64], weights uniform in
/// [−0.1, 0.1], biases 0.
///
/// The passes carry `@_specialize` for Float and Double: they are generic and called from other
/// files and modules, where (without whole-module optimisation) they would run unspecialised.
public struct ICNN<Scalar: BLASScalar>: Sendable, Codable, Equatable, FlatParameters {
    /// Slope of the leaky ReLU for negative inputs (CellOT: `LeakyReLU(0.2)`).
    public static var negativeSlope: Scalar { 0.2 }

    public let inputDimension: Int
    public let hiddenUnits: [Int]
    /// A_k, units[k] × d, for k = 0 … K−1 (units = hiddenUnits + [1]).
    public var inputWeights: [Matrix<Scalar>]
    /// b_k, units[k] entries.
    public var biases: [[Scalar]]
    /// W_k, units[k+1] × units[k], for k = 0 … K−2; kept ≥ 0 for convexity.
    public var hiddenWeights: [Matrix<Scalar>]

    var units: [Int] { hiddenUnits + [1] }

    /// Every A_k then b_k, for k = 0 … K−1, then every W_k: the order of
    /// `ICNNGradients.flattened`.
    public var flatParameters: [Scalar] {
        get { ICNNGradients(inputWeights: inputWeights, biases: biases, hiddenWeights: hiddenWeights).flattened }
        set {
            var reader = FlatParameterReader(newValue)
            for k in inputWeights.indices {
                inputWeights[k] = reader.matrix(like: inputWeights[k])
                biases[k] = reader.vector(count: biases[k].count)
            }
            hiddenWeights = hiddenWeights.map { reader.matrix(like: $0) }
        }
    }

    public mutating func updateParameterBlocks(_ body: (UnsafeMutableBufferPointer<Scalar>) -> Void) {
        for k in inputWeights.indices {
            inputWeights[k].withUnsafeMutableBufferPointer { body($0) }
            biases[k].withUnsafeMutableBufferPointer { body($0) }
        }
        for k in hiddenWeights.indices { hiddenWeights[k].withUnsafeMutableBufferPointer { body($0) } }
    }

    /// CellOT's initialisation: every weight uniform in [−scale, scale], biases 0.
    public init(inputDimension: Int, hiddenUnits: [Int] = [64, 64, 64, 64], initScale: Double = 0.1, rng: inout SeededRNG) {
        precondition(inputDimension > 0 && !hiddenUnits.isEmpty && hiddenUnits.allSatisfy { $0 > 0 })
        self.inputDimension = inputDimension
        self.hiddenUnits = hiddenUnits
        let units = hiddenUnits + [1]
        func uniform(_ rows: Int, _ cols: Int) -> Matrix<Scalar> {
            Matrix(rows: rows, cols: cols) { _, _ in Scalar(initScale * (2 * rng.uniform() - 1)) }
        }
        inputWeights = units.map { uniform($0, inputDimension) }
        biases = units.map { [Scalar](repeating: 0, count: $0) }
        hiddenWeights = zip(units.dropLast(), units.dropFirst()).map { uniform($1, $0) }
    }

    /// g(x) for each row of `x`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func values(_ x: Matrix<Scalar>) -> [Scalar] {
        forward(x).output.storage
    }

    /// ∇ₓg(x) for each row of `x` (n × d): the map T(x) = ∇g(x) of the ICNN-OT estimators.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func inputGradients(_ x: Matrix<Scalar>) -> Matrix<Scalar> {
        inputGradients(x, trace: forward(x))
    }

    /// ∇ₓg(x) from a forward pass already made on `x`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func inputGradients(_ x: Matrix<Scalar>, trace: Trace) -> Matrix<Scalar> {
        backward(trace, x, outputWeights: [Scalar](repeating: 1, count: x.rows), parameters: false).input
    }

    /// Gradients of Σ_i w_i g(x_i) with respect to every parameter.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func parameterGradients(_ x: Matrix<Scalar>, weights: [Scalar]) -> ICNNGradients<Scalar> {
        backward(forward(x), x, outputWeights: weights, input: false).parameters
    }

    /// D_i = ⟨v_i, ∇ₓg(x_i)⟩ for each row, and the gradients of Σ_i w_i D_i with respect to every
    /// parameter: what the ICNN-OT losses need, where v depends on the other network.
    ///
    /// D is the forward-mode derivative of g along v (tangents ḣ_k, ż_k beside the primal pass);
    /// its parameter gradient is reverse mode through that tangent pass. σ is piecewise linear, so
    /// σ' is locally constant and only the first layer's σ(h)², whose second derivative is
    /// 2σ'(h)², sends gradient back into the primal pass (to A₀ and b₀); the other biases get
    /// none.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func directionalDerivativeGradients(
        _ x: Matrix<Scalar>, directions v: Matrix<Scalar>, weights: [Scalar]
    ) -> (values: [Scalar], parameters: ICNNGradients<Scalar>) {
        directionalDerivativeGradients(x, directions: v, weights: weights, trace: forward(x))
    }

    /// The same, from a forward pass already made on `x` (training reuses the one that gave
    /// ∇g(x)).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func directionalDerivativeGradients(
        _ x: Matrix<Scalar>, directions v: Matrix<Scalar>, weights: [Scalar], trace: Trace
    ) -> (values: [Scalar], parameters: ICNNGradients<Scalar>) {
        precondition(v.rows == x.rows && v.cols == inputDimension && weights.count == x.rows)
        let last = units.count - 1
        // Tangent pass: ḣ_k (pre-activation tangents) and ż_k.
        var hDot: [Matrix<Scalar>] = [], zDot: [Matrix<Scalar>] = []
        for k in 0...last {
            var tangent = v.multiplied(by: inputWeights[k], transposeOther: true)
            if k > 0 { tangent.addProduct(zDot[k - 1], hiddenWeights[k - 1], transposeB: true) }
            hDot.append(tangent)
            if k < last {
                zDot.append(LeakyReLUKernels.chain(tangent, pre: trace.preActivations[k], slope: Self.negativeSlope, squared: k == 0))
            }
        }
        var gradients = ICNNGradients(zeroLike: self)
        var lambda = Matrix<Scalar>(rows: x.rows, cols: 1) { i, _ in weights[i] }  // adjoint of ḣ_k
        for k in stride(from: last, through: 0, by: -1) {
            if k < last {
                let mu = lambda.multiplied(by: hiddenWeights[k])  // adjoint of ż_k
                let h = trace.preActivations[k]
                if k == 0 {
                    // ż₀ = s'(h₀)ḣ₀ with s(t) = σ(t)²: s'' = 2σ'(h)² carries μ into h₀.
                    let rho = LeakyReLUKernels.squareCurvature(mu, tangent: hDot[0], pre: h, slope: Self.negativeSlope)
                    gradients.inputWeights[0] = rho.multiplied(by: x, transposeSelf: true)
                    gradients.biases[0] = rho.columnSums()
                }
                lambda = LeakyReLUKernels.chain(mu, pre: h, slope: Self.negativeSlope, squared: k == 0)
            }
            gradients.inputWeights[k].addProduct(lambda, v, transposeA: true)
            if k > 0 { gradients.hiddenWeights[k - 1] = lambda.multiplied(by: zDot[k - 1], transposeSelf: true) }
        }
        return (hDot[last].storage, gradients)
    }

    /// W ← max(W, 0) after an optimiser step (CellOT's `clamp_w`).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public mutating func clampHiddenWeights() {
        hiddenWeights = hiddenWeights.map { $0.map { $0 > 0 ? $0 : 0 } }
    }

    /// Σ_k ‖relu(−W_k)‖_F (CellOT's `penalize_w` before its factor).
    public func negativeWeightPenalty() -> Scalar {
        hiddenWeights.reduce(0) { total, w in
            total + w.storage.reduce(0) { $0 + ($1 < 0 ? $1 * $1 : 0) }.squareRoot()
        }
    }

    // MARK: Passes

    /// Pre-activations h_k (n × units[k]) and layer outputs z_k, kept for the backward pass.
    struct Trace {
        var preActivations: [Matrix<Scalar>] = []
        var activations: [Matrix<Scalar>] = []
        var output = Matrix<Scalar>(rows: 0, cols: 1)
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func forward(_ x: Matrix<Scalar>) -> Trace {
        precondition(x.cols == inputDimension, "ICNN input has \(x.cols) columns, expected \(inputDimension)")
        var trace = Trace()
        let last = units.count - 1
        for k in 0...last {
            var h = x.multiplied(by: inputWeights[k], transposeOther: true)
            if k > 0 {
                let z = trace.activations[k - 1]
                h.addProduct(z, hiddenWeights[k - 1], transposeB: true)
            }
            h.addToEachRow(biases[k])
            trace.preActivations.append(h)
            if k == last {
                trace.output = h
            } else {
                trace.activations.append(LeakyReLUKernels.activation(h, slope: Self.negativeSlope, squared: k == 0))
            }
        }
        return trace
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    /// Reverse pass from output weights w: ∇ₓ of Σ w_i g(x_i) per row (`input`) and its
    /// parameter gradients; either can be skipped (left zero), which saves two gemms a layer.
    func backward(
        _ trace: Trace, _ x: Matrix<Scalar>, outputWeights: [Scalar], input wantsInput: Bool = true, parameters wantsParameters: Bool = true
    ) -> (input: Matrix<Scalar>, parameters: ICNNGradients<Scalar>) {
        let last = units.count - 1
        var gradients = ICNNGradients(zeroLike: self)
        var input = Matrix<Scalar>(rows: x.rows, cols: inputDimension)
        // δ: gradient with respect to the pre-activation of the current layer.
        var delta = Matrix<Scalar>(rows: x.rows, cols: 1) { i, _ in outputWeights[i] }
        for k in stride(from: last, through: 0, by: -1) {
            if k < last {
                let upstream = delta.multiplied(by: hiddenWeights[k])  // ∂/∂z_k
                delta = LeakyReLUKernels.chain(upstream, pre: trace.preActivations[k], slope: Self.negativeSlope, squared: k == 0)
            }
            if wantsParameters {
                gradients.inputWeights[k] = delta.multiplied(by: x, transposeSelf: true)
                gradients.biases[k] = delta.columnSums()
                if k > 0 {
                    gradients.hiddenWeights[k - 1] = delta.multiplied(by: trace.activations[k - 1], transposeSelf: true)
                }
            }
            if wantsInput { input.addProduct(delta, inputWeights[k]) }
        }
        return (input, gradients)
    }
}

/// Gradients with the shapes of an `ICNN`'s parameters.
public struct ICNNGradients<Scalar: BLASScalar>: Sendable, Equatable {
    public var inputWeights: [Matrix<Scalar>]
    public var biases: [[Scalar]]
    public var hiddenWeights: [Matrix<Scalar>]

    init(inputWeights: [Matrix<Scalar>], biases: [[Scalar]], hiddenWeights: [Matrix<Scalar>]) {
        self.inputWeights = inputWeights
        self.biases = biases
        self.hiddenWeights = hiddenWeights
    }

    /// All entries in `ICNN.flatParameters` order.
    public var flattened: [Scalar] {
        var values: [Scalar] = []
        for k in inputWeights.indices {
            values += inputWeights[k].storage
            values += biases[k]
        }
        for w in hiddenWeights { values += w.storage }
        return values
    }

    init(zeroLike network: ICNN<Scalar>) {
        inputWeights = network.inputWeights.map { Matrix(rows: $0.rows, cols: $0.cols) }
        biases = network.biases.map { [Scalar](repeating: 0, count: $0.count) }
        hiddenWeights = network.hiddenWeights.map { Matrix(rows: $0.rows, cols: $0.cols) }
    }
}
