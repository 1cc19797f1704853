import AnnData
import Datasets
import Foundation
import LinearAlgebra
import Stages
import TestSupport
import XCTest

/// The sci-Plex-like count generator: shape, determinism, count law, programs, and that the drug
/// signal reaches past the first principal components after the pipeline's normalisation.
final class ScRNALikeDatasetTests: XCTestCase {
    private static let options = ScRNALikeDataset.Options(seed: 5, genes: 400, controlCells: 400, cellsPerDrug: 300)

    private func generated(_ options: ScRNALikeDataset.Options = options) throws -> (AnnData<Float>, SparseMatrix<Float>, Categorical) {
        let data = try ScRNALikeDataset.make(options)
        guard case .sparse(let x)? = data.X, x.format == .csr else { throw XCTSkip("X is not CSR") }
        guard case .categorical(let drug)? = data.obs["drug"] else { throw XCTSkip("no categorical drug column") }
        return (data, x, drug)
    }

    /// Column sums of the rows with category `code`, and the number of such rows.
    private func pooledCounts(_ x: SparseMatrix<Float>, _ drug: Categorical, code: Int32) -> [Double] {
        var sums = [Double](repeating: 0, count: x.cols)
        for row in 0..<x.rows where drug.codes[row] == code {
            for k in x.indptr[row]..<x.indptr[row + 1] { sums[Int(x.indices[k])] += Double(x.data[k]) }
        }
        return sums
    }

    func testShapeNamesLabelsAndDeterminism() throws {
        let (data, x, drug) = try generated()
        XCTAssertEqual(data.nObs, 400 + 5 * 300)
        XCTAssertEqual(data.nVars, 400)
        XCTAssertEqual(data.var.index.first, "GENE0001")
        XCTAssertEqual(data.var.index.last, "GENE0400")
        XCTAssertEqual(Set(data.var.index).count, 400)
        XCTAssertEqual(ScRNALikeDataset.geneNames(12_000).last, "GENE12000")
        XCTAssertEqual(drug.categories, ["control", "belinostat", "dacinostat", "givinostat", "hesperadin", "quisinostat"])
        XCTAssertEqual(drug.counts, [400, 300, 300, 300, 300, 300])
        XCTAssertEqual(try ScRNALikeDataset.make(Self.options), data)
        XCTAssertGreaterThan(x.nonzeroCount, 0)
        let small = ScRNALikeDataset.Options(seed: 5, genes: 100, controlCells: 50, cellsPerDrug: 20)
        var other = small
        other.seed = 6
        XCTAssertEqual(try ScRNALikeDataset.make(small), try ScRNALikeDataset.make(small))
        XCTAssertNotEqual(try ScRNALikeDataset.make(other).X, try ScRNALikeDataset.make(small).X, "another seed, other counts")
    }

    func testCountsAreSparseNonNegativeIntegersWithVaryingLibrarySizes() throws {
        let (_, x, drug) = try generated()
        XCTAssertTrue(x.data.allSatisfy { $0 >= 1 && $0 == $0.rounded() }, "stored counts must be positive integers")
        let density = Double(x.nonzeroCount) / Double(x.rows * x.cols)
        XCTAssertGreaterThan(density, 0.03)
        XCTAssertLessThan(density, 0.4)
        XCTAssertGreaterThan(x.data.max() ?? 0, 20, "a few highly expressed genes")
        let libraries = (0..<x.rows).filter { drug.codes[$0] == 0 }.map { row in
            x.data[x.indptr[row]..<x.indptr[row + 1]].reduce(0.0) { $0 + Double($1) }
        }.sorted()
        let median = libraries[libraries.count / 2]
        XCTAssertEqual(median, ScRNALikeDataset.medianLibrarySize, accuracy: 0.15 * ScRNALikeDataset.medianLibrarySize)
        let p10 = libraries[libraries.count / 10], p90 = libraries[libraries.count * 9 / 10]
        XCTAssertGreaterThan(p90 / p10, 2, "library sizes are log-normal (σ = 0.45: p90/p10 ≈ 3.2)")
        XCTAssertLessThan(p90 / p10, 5)
        // Over-dispersion: within the control cells, a gene's variance exceeds its mean.
        let control = (0..<x.rows).filter { drug.codes[$0] == 0 }
        let dense = x.densified()
        var overdispersed = 0, tested = 0
        for gene in 0..<x.cols {
            let values = control.map { Double(dense[$0, gene]) }
            let mean = values.reduce(0, +) / Double(values.count)
            guard mean > 2 else { continue }
            let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)
            tested += 1
            if variance > 1.5 * mean { overdispersed += 1 }
        }
        XCTAssertGreaterThan(tested, 10)
        XCTAssertGreaterThan(Double(overdispersed), 0.9 * Double(tested))
    }

    func testEachDrugShiftsOnlyItsProgramInTheDocumentedDirection() throws {
        // 1000 genes, so that even hesperadin's program (1.5 %) has a few well-expressed genes.
        var options = Self.options
        options.genes = 1000
        let (data, x, drug) = try generated(options)
        let law = ScRNALikeDataset.Law(seed: options.seed, genes: options.genes)
        guard case .categorical(let state)? = data.obs["cell_state"] else { return XCTFail("no cell_state column") }
        XCTAssertEqual(state.categories, ScRNALikeDataset.stateNames)
        var testedStateSpecific = 0
        let control = pooledCounts(x, drug, code: 0)
        let sizes = law.programs.map(\.genes.count)
        XCTAssertEqual(Set(sizes).count, 5, "programs of different sizes: \(sizes)")
        XCTAssertEqual(sizes, ScRNALikeDataset.effects.map { max(3, Int(($0.programFraction * 1000).rounded())) })
        guard case .dictionary(let meta)? = data.uns["perturbot_scrna_like"],
              case .dictionary(let programs)? = meta["programs"] else { return XCTFail("no uns programs") }
        for (index, name) in ScRNALikeDataset.drugs.enumerated() {
            let program = law.programs[index]
            guard case .dictionary(let recorded)? = programs[name], case .string(let up)? = recorded["up"] else {
                return XCTFail("\(name): no recorded program")
            }
            XCTAssertEqual(up, program.upGenes.map { data.var.index[$0] }.joined(separator: ","), name)
            XCTAssertEqual((program.upGenes + program.downGenes).sorted(), program.genes, name)
            // Pooled counts per gene (300 treated vs 400 control cells, equal library-size law).
            let treated = pooledCounts(x, drug, code: Int32(index + 1))
            func logRatio(_ gene: Int) -> Double? {
                let c = control[gene] / 400, t = treated[gene] / 300
                return c + t > 1 ? log((t + 0.05) / (c + 0.05)) : nil
            }
            let members = Set(program.genes)
            let outside = (0..<x.cols).filter { !members.contains($0) }.compactMap(logRatio)
            let outsideMean = outside.reduce(0, +) / Double(outside.count)
            let outsideAbsolute = outside.reduce(0) { $0 + abs($1) } / Double(outside.count)
            // (The control cells' own sampling of cell states moves this by up to about ±0.1.)
            XCTAssertEqual(outsideMean, 0, accuracy: 0.15, "\(name): genes outside the program keep their counts")
            var agree = 0, inside = 0, insideAbsolute = 0.0
            for (k, gene) in program.genes.enumerated() {
                guard let ratio = logRatio(gene) else { continue }
                inside += 1
                insideAbsolute += abs(ratio)
                if (ratio > 0) == (program.logFoldChanges[k] > 0) { agree += 1 }
            }
            XCTAssertGreaterThanOrEqual(inside, 3, name)
            XCTAssertGreaterThan(Double(agree), 0.8 * Double(inside), "\(name): program genes move in their direction")
            XCTAssertGreaterThan(insideAbsolute / Double(inside), 2.5 * outsideAbsolute, name)

            // The state-specific genes respond in the sensitive state (×1.8) far more than in the
            // others (×0.2), each compared with control cells of the same states.
            let sensitive = Int32(program.sensitiveState)
            func pooled(code: Int32, inSensitiveState: Bool) -> [Double] {
                let rows = (0..<x.rows).filter { drug.codes[$0] == code && (state.codes[$0] == sensitive) == inSensitiveState }
                var sums = [Double](repeating: 0, count: x.cols)
                for row in rows { for k in x.indptr[row]..<x.indptr[row + 1] { sums[Int(x.indices[k])] += Double(x.data[k]) } }
                return sums.map { $0 / Double(max(1, rows.count)) }
            }
            let groups = [true, false].map { (pooled(code: Int32(index + 1), inSensitiveState: $0), pooled(code: 0, inSensitiveState: $0)) }
            let specificGenes = zip(program.genes, program.stateSpecific).filter(\.1).map(\.0)
                .filter { gene in groups.allSatisfy { $0.1[gene] > 1 } }
            guard specificGenes.count >= 3 else { continue }
            testedStateSpecific += 1
            let responses = groups.map { treated, control in
                specificGenes.reduce(0.0) { $0 + abs(log((treated[$1] + 0.05) / (control[$1] + 0.05))) } / Double(specificGenes.count)
            }
            XCTAssertGreaterThan(responses[0], 2 * responses[1], "\(name): state-specific genes, sensitive vs other states")
        }
        XCTAssertGreaterThanOrEqual(testedStateSpecific, 3)
    }

    func testMeansFollowTheDocumentedModel() throws {
        let law = ScRNALikeDataset.Law(seed: 1, genes: 2000)
        var rng = SeededRNG(seed: 2)
        for index in ScRNALikeDataset.drugs.indices {
            let program = law.programs[index]
            XCTAssertTrue(program.stateSpecific.contains(true) && program.stateSpecific.contains(false))
            var responses: [Double] = [], largestError = 0.0
            for _ in 0..<60 {
                let cell = law.cellState(&rng)
                let control = law.means(cell: cell, library: 1234, drug: nil)
                XCTAssertEqual(control.reduce(0, +), 1234, accuracy: 1e-6)
                let treated = law.means(cell: cell, library: 1234, drug: index)
                let response = law.response(drug: index, cell: cell)
                responses.append(response)
                var expected = [Double](repeating: 0, count: law.genes)
                for (k, gene) in program.genes.enumerated() {
                    let scale = program.stateSpecific[k] ? (cell.state == program.sensitiveState ? 1.8 : 0.2) : response
                    expected[gene] = program.logFoldChanges[k] * scale
                }
                for gene in 0..<law.genes {
                    largestError = max(largestError, abs(log(treated[gene] / control[gene]) - expected[gene]))
                }
            }
            XCTAssertLessThan(largestError, 1e-9, "log fold changes of \(ScRNALikeDataset.drugs[index]) (0 outside its program)")
            // 1 ± ρ·tanh(·): positive (the direction holds) and varying from cell to cell.
            XCTAssertTrue(responses.allSatisfy { $0 > 0 }, ScRNALikeDataset.drugs[index])
            let spread = (responses.max() ?? 0) - (responses.min() ?? 0)
            XCTAssertGreaterThan(spread, ScRNALikeDataset.effects[index].heterogeneity, ScRNALikeDataset.drugs[index])
        }
    }

    /// With Δ_A, Δ_B the mean shifts measured on disjoint halves of the drug and control cells,
    /// ⟨Δ_A, Δ_B⟩ estimates the squared norm of the true shift without the sampling noise (the
    /// two noises are independent), and the same with both projected off the first 16 PCs.
    func testTheDrugSignalIsNotAllInTheFirstPrincipalComponents() throws {
        let folder = try TestPaths.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let options = ScRNALikeDataset.Options(seed: 0, genes: 600, controlCells: 800, cellsPerDrug: 400)
        let path = folder.appendingPathComponent("scrna.h5ad").path
        try AnnDataWriter.write(try ScRNALikeDataset.make(options), to: path)
        // The pipeline's load stage, as pipelines/sciplex-like.yaml configures it.
        let loaded = try Load.run(path: path, conditionKey: "drug", features: "X",
                                  transform: .normalizeLog1p(targetSum: ScRNALikeDataset.medianLibrarySize))
        let x = loaded.features
        let model = try PCAModel.fit(x, components: 16)
        func mean(_ rows: ArraySlice<Int>) -> [Double] {
            var sums = [Double](repeating: 0, count: x.cols)
            for row in rows { for j in 0..<x.cols { sums[j] += Double(x[row, j]) } }
            return sums.map { $0 / Double(rows.count) }
        }
        func dot(_ u: [Double], _ v: [Double]) -> Double { zip(u, v).reduce(0) { $0 + $1.0 * $1.1 } }
        func cosine(_ u: [Double], _ v: [Double]) -> Double { dot(u, v) / (dot(u, u) * dot(v, v)).squareRoot() }
        /// The part of `v` outside the span of the first 16 components.
        func residual(_ v: [Double]) -> [Double] {
            var rest = v
            for c in 0..<model.componentCount {
                let along = (0..<v.count).reduce(0.0) { $0 + model.components[c, $1] * v[$1] }
                for j in 0..<v.count { rest[j] -= along * model.components[c, j] }
            }
            return rest
        }
        let control = loaded.cells(labelled: "control")
        let controlA = mean(control.prefix(400)), controlB = mean(control.suffix(400))
        var outsideFractions: [Double] = []
        for drug in ScRNALikeDataset.drugs {
            let cells = loaded.cells(labelled: drug)
            let a = zip(mean(cells.prefix(200)), controlA).map { $0 - $1 }
            let b = zip(mean(cells.suffix(200)), controlB).map { $0 - $1 }
            // Pure sampling noise would give a cosine near 0 (± ~0.1 here).
            XCTAssertGreaterThan(cosine(a, b), 0.5, "\(drug): the mean shift is reproducible")
            let (restA, restB) = (residual(a), residual(b))
            let fraction = dot(restA, restB) / dot(a, b)
            outsideFractions.append(fraction)
            if fraction > 0.3 {
                XCTAssertGreaterThan(cosine(restA, restB), 0.3, "\(drug): the part outside 16 PCs is signal, not noise")
            }
        }
        XCTAssertGreaterThan(outsideFractions.max() ?? 0, 0.3, "energy of the shifts outside 16 PCs: \(outsideFractions)")
        XCTAssertLessThan(outsideFractions.min() ?? 1, 0.2, "strong drugs are mostly in the first PCs: \(outsideFractions)")
    }

    func testBadOptionsAreRefused() {
        XCTAssertThrowsError(try ScRNALikeDataset.make(.init(genes: 10))) { error in
            XCTAssertTrue("\(error)".contains("at least 50 genes"), "\(error)")
        }
        XCTAssertThrowsError(try ScRNALikeDataset.make(.init(genes: 100, controlCells: 1)))
    }
}
