import AnnData
import Foundation
import LinearAlgebra

/// Reads the real and the predicted `.h5ad` of `perturbot score` (cell-eval's convention) and
/// checks them: the same genes in the same order, the perturbation column in both, the control
/// in both, the same perturbations, log1p-normalised values (fractional, ≥ 0, < 15, finite).
/// Every problem is one line naming the file.
public enum ScoreInput {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public static func read(real: String, predicted: String, perturbationColumn: String, control: String) throws
        -> (real: ExpressionData, predicted: ExpressionData) {
        let realData = try load(real, perturbationColumn: perturbationColumn)
        let predictedData = try load(predicted, perturbationColumn: perturbationColumn)
        guard realData.genes == predictedData.genes else {
            let realSet = Set(realData.genes), predictedSet = Set(predictedData.genes)
            if realSet == predictedSet {
                throw Failure(description: "\(predicted): its genes are those of \(real) in another order (var names must match in content and order)")
            }
            let missing = realData.genes.filter { !predictedSet.contains($0) }, extra = predictedData.genes.filter { !realSet.contains($0) }
            throw Failure(description: "\(predicted): its genes differ from \(real)'s (\(realData.genes.count) vs \(predictedData.genes.count); "
                + "missing: \(missing.prefix(5).joined(separator: ", "))\(missing.count > 5 ? " …" : ""); "
                + "extra: \(extra.prefix(5).joined(separator: ", "))\(extra.count > 5 ? " …" : ""))")
        }
        for (path, data) in [(real, realData), (predicted, predictedData)] where !data.labels.contains(control) {
            throw Failure(description: "\(path): no cell has \(perturbationColumn) = '\(control)' (the control; labels: \(Set(data.labels).sorted().prefix(8).joined(separator: ", ")))")
        }
        let realLabels = Set(realData.labels), predictedLabels = Set(predictedData.labels)
        if let missing = realLabels.subtracting(predictedLabels).sorted().first {
            throw Failure(description: "\(predicted): no cell has \(perturbationColumn) = '\(missing)', which \(real) has (both files need every perturbation)")
        }
        if let extra = predictedLabels.subtracting(realLabels).sorted().first {
            throw Failure(description: "\(predicted): perturbation '\(extra)' is not in \(real)")
        }
        guard realLabels.count >= 2 else { throw Failure(description: "\(real): no perturbation besides the control '\(control)'") }
        return (realData, predictedData)
    }

    static func load(_ path: String, perturbationColumn: String) throws -> ExpressionData {
        let data = try AnnDataReader.read(path, as: Float.self, sparse: .densify)
        guard let x = data.X else { throw Failure(description: "\(path): X is missing") }
        let values = x.densified()
        try checkLog1p(values, path: path)
        guard let column = try data.obsLabels(perturbationColumn) else {
            throw Failure(description: "\(path): obs '\(perturbationColumn)' is not categorical or text")
        }
        let labels = try column.enumerated().map { row, label in
            guard let label else {
                throw Failure(description: "\(path): obs '\(perturbationColumn)' is missing for cell \(data.obs.index[row])")
            }
            return label
        }
        return ExpressionData(values: values, labels: labels, genes: data.var.index)
    }

    /// cell-eval's rule for log1p data: some value has a fractional part above 10⁻³, none is
    /// negative, all are below 15; and every value is finite.
    public static func checkLog1p(_ values: Matrix<Float>, path: String) throws {
        var fractional = false, minimum = Float.infinity, maximum = -Float.infinity
        for value in values.storage {
            guard value.isFinite else { throw Failure(description: "\(path): X holds NaN or infinity") }
            minimum = Swift.min(minimum, value)
            maximum = Swift.max(maximum, value)
            if !fractional, value - value.rounded(.towardZero) > 1e-3 { fractional = true }
        }
        guard minimum >= 0 else { throw Failure(description: "\(path): X has negative values (min \(minimum)); expected log1p-normalised expression") }
        guard fractional else {
            throw Failure(description: "\(path): X holds whole numbers only, i.e. counts; expected log1p-normalised expression (scanpy: sc.pp.normalize_total, then sc.pp.log1p)")
        }
        guard maximum < 15 else {
            throw Failure(description: "\(path): X reaches \(maximum), too large for log1p-normalised expression (cell-eval's limit is 15)")
        }
    }
}
