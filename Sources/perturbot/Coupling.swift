import AnnData
import ArgumentParser
import Datasets
import Foundation
import LinearAlgebra
import Methods
import Reports
import Stages
import Transport

/// `perturbot coupling`: the ProgOT paper's coupling experiments — Sinkhorn over an ε grid and
/// ProgOT over several K, each plan's transport cost, entropy and iterations, and for paired
/// clouds (a blurred copy of the source, say) the mass on the true pairs and KL(Id/n ‖ π).
struct Coupling: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coupling",
        abstract: "Coupling recovery: cost, entropy and iterations of Sinkhorn (ε grid) and ProgOT (K grid).",
        discussion: """
            Clouds come from --source/--target (.csv, .npy or .h5ad, one point per row), or from \
            --data FILE.h5ad with --control and --drug labels of --condition-key, or --target is \
            left out and --blur σ makes it: each source row, an image of --image-shape pixels, \
            blurred as scipy.ndimage.gaussian_filter (reflect, truncate 4); the clouds are then \
            paired. Costs: sqeuclidean (‖x−y‖²), pnorm (‖x−y‖_p^p/p, --p), elastic_l1 or elastic_stvs (--lambda, --gamma). Sinkhorn ε is \
            --epsilon-scales × OTT's default ε of the (x, y) problem, plus the held-out tuned ε \
            (eot's); ProgOT's coupling is its last step's plan. With --out DIR: coupling.csv, \
            report.md and cost_entropy.svg.
            """)

    @Option(parsing: .unconditional, help: "Source point cloud (.csv, .npy or .h5ad).")
    var source: String?

    @Option(parsing: .unconditional, help: "Target point cloud (.csv, .npy or .h5ad).")
    var target: String?

    @Option(parsing: .unconditional, help: "For .h5ad --source/--target: read this obsm entry instead of X.")
    var obsm: String?

    @Option(parsing: .unconditional, help: "An .h5ad file: source = cells labelled --control, target = cells labelled --drug.")
    var data: String?

    @Option(parsing: .unconditional, help: "With --data: the obs column of the labels.")
    var conditionKey = "drug"

    @Option(parsing: .unconditional, help: "With --data: the source label.")
    var control = "control"

    @Option(parsing: .unconditional, help: "With --data: the target label.")
    var drug: String?

    @Option(parsing: .unconditional, help: "With --data: X or an obsm key.")
    var features = "X"

    @Option(parsing: .unconditional, help: "Make the target by blurring each source image with a Gaussian of this σ (pixels); implies --paired.")
    var blur: Double?

    @Option(parsing: .unconditional, help: "With --blur: image height x width, e.g. 8x8.")
    var imageShape = "8x8"

    @Flag(help: "Row i of the target is the true partner of row i of the source: also report Tr π and KL(Id/n ‖ π).")
    var paired = false

    @Option(parsing: .unconditional, help: "Keep at most this many points of each cloud (a seeded random subset; the same rows of both when paired).")
    var maxPoints: Int?

    @OptionGroup var costArguments: CostArguments

    @Option(parsing: .unconditional, help: "elastic_l1 and elastic_stvs: λ ≥ 0.")
    var lambda = 1.0

    @Option(parsing: .unconditional, help: "Sinkhorn's ε as multiples of OTT's default ε of (x, y), comma-separated.")
    var epsilonScales = "0.0625,0.125,0.25,0.5,1,2"

    @Flag(help: "Leave out the Sinkhorn run at the held-out tuned ε.")
    var noTunedEpsilon = false

    @Option(parsing: .unconditional, help: "ProgOT's numbers of steps K, comma-separated (none: 'none').")
    var steps = "2,4,8,16"

    @Option(parsing: .unconditional, help: "ProgOT's end ε as multiples of OTT's default ε of (x, y), or 'tuned' (on held-out target points), comma-separated; each is run for every K.")
    var progotEndScales = "tuned"

    @Option(parsing: .unconditional, help: "ProgOT: the start ε as a multiple of OTT's default ε of (x, y).")
    var startEpsilonScale = 1.0

    @Option(parsing: .unconditional, help: "ProgOT: step schedule lin, exp or quad.")
    var alpha: AlphaSchedule = .quad

    @Option(parsing: .unconditional, help: "ProgOT: first step's threshold, falling to --threshold at step K ('none': --threshold throughout).")
    var startThreshold = "0.01"

    @Option(parsing: .unconditional, help: "ProgOT: warm-start each step from the last (true or false).")
    var warmStart = true

    @Option(parsing: .unconditional, help: "Stop each Sinkhorn run when the L1 error of the column marginal is below this.")
    var threshold = 1e-3

    @Option(parsing: .unconditional, help: "Sinkhorn iteration limit per run.")
    var maxIterations = 2000

    @Option(parsing: .unconditional, help: "Seed of the subsets and of the held-out ε search.")
    var seed: UInt64 = 0

    @Option(parsing: .unconditional, help: "Folder for coupling.csv, report.md and cost_entropy.svg.")
    var out: String?

    @Option(parsing: .unconditional, help: "Title of the report and the chart.")
    var title: String?

    @Flag(help: "Print the rows as JSON.")
    var json = false

    func run() throws {
        try reportingErrors {
            let groundCost = try costArguments.groundCost(lambda: lambda)
            let isPaired = paired || blur != nil
            let settings = CouplingRecovery.Settings(
                cost: groundCost, epsilonScales: try numbers(epsilonScales, option: "--epsilon-scales"),
                tunedEpsilon: !noTunedEpsilon, progotSteps: try integers(steps, option: "--steps"),
                progotEndScales: try endScales(),
                progot: try progotTemplate(), paired: isPaired)
            var (x, y, description) = try clouds()
            if isPaired, x.rows != y.rows {
                throw CommandError("--paired needs as many source as target points, got \(x.rows) and \(y.rows)")
            }
            (x, y) = try subsample(x, y, paired: isPaired)
            let started = Date()
            let rows = try CouplingRecovery.run(source: x, target: y, settings: settings, seed: seed)
            let wall = Date().timeIntervalSince(started)
            let context = ReportContext(description: description, n: x.rows, m: y.rows, d: x.cols, cost: groundCost,
                                        epsilonBase: try groundCost.defaultEpsilon(x, y), paired: isPaired, wall: wall)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(rows), as: UTF8.self))
            } else {
                print(table(rows, paired: isPaired).joined(separator: "\n"))
            }
            if let out { try write(rows, context: context, to: out) }
            for row in rows where row.unconvergedRuns > 0 {
                FileHandle.standardError.write(Data(
                    "perturbot: warning: \(row.method) \(row.setting): \(row.unconvergedRuns) Sinkhorn run(s) stopped at --max-iterations \(maxIterations) before the threshold \(threshold)\n".utf8))
            }
        }
    }

    private func clouds() throws -> (Matrix<Double>, Matrix<Double>, String) {
        if let data {
            guard source == nil, target == nil, blur == nil else {
                throw CommandError("--data cannot be combined with --source, --target or --blur")
            }
            guard let drug else { throw CommandError("--data needs --drug (the target label)") }
            let loaded = try Load.run(path: data, conditionKey: conditionKey, features: features, transform: .none)
            let sourceRows = loaded.cells(labelled: control), targetRows = loaded.cells(labelled: drug)
            guard !sourceRows.isEmpty else { throw CommandError("\(data): no cell has \(conditionKey) = '\(control)'") }
            guard !targetRows.isEmpty else { throw CommandError("\(data): no cell has \(conditionKey) = '\(drug)'") }
            let all = loaded.features.converted(to: Double.self)
            return (all.rows(at: sourceRows), all.rows(at: targetRows),
                    "\(data): \(features), \(conditionKey) '\(control)' → '\(drug)'")
        }
        guard let source else { throw CommandError("give --source (with --target or --blur) or --data") }
        if let blur {
            guard target == nil else { throw CommandError("--blur makes the target; leave out --target") }
            let x = try PointCloudFile.read(source, obsm: obsm)
            let shape = imageShape.split(separator: "x").compactMap { Int($0) }
            guard shape.count == 2 else { throw CommandError("--image-shape must be HEIGHTxWIDTH, e.g. 8x8, got '\(imageShape)'") }
            let blurred = try GaussianBlur(sigma: blur, height: shape[0], width: shape[1]).apply(x)
            return (x, blurred, "\(source) → the same images blurred with σ = \(String(format: "%g", blur)) px")
        }
        guard let target else { throw CommandError("give --target, or --blur to make it from --source") }
        let (x, y) = try readCloudPair(source: source, target: target, obsm: obsm)
        return (x, y, "\(source) → \(target)")
    }

    private func subsample(_ x: Matrix<Double>, _ y: Matrix<Double>, paired: Bool) throws -> (Matrix<Double>, Matrix<Double>) {
        guard let maxPoints else { return (x, y) }
        guard maxPoints >= 2 else { throw CommandError("--max-points must be at least 2, got \(maxPoints)") }
        var rng = SeededRNG(seed: seed)
        let sourceRows = Array(rng.permutation(x.rows).prefix(maxPoints)).sorted()
        let targetRows = paired ? sourceRows : Array(rng.permutation(y.rows).prefix(maxPoints)).sorted()
        return (x.rows(at: sourceRows), y.rows(at: targetRows))
    }

    private func progotTemplate() throws -> ProgOTEstimator {
        guard threshold.isFinite, threshold > 0 else { throw CommandError("--threshold must be a positive number") }
        guard maxIterations >= 1 else { throw CommandError("--max-iterations must be at least 1") }
        let start: Double?
        if startThreshold == "none" {
            start = nil
        } else if let value = Double(startThreshold), value.isFinite, value > 0 {
            start = value
        } else {
            throw CommandError("--start-threshold must be a positive number or 'none', got '\(startThreshold)'")
        }
        guard startEpsilonScale.isFinite, startEpsilonScale > 0 else {
            throw CommandError("--start-epsilon-scale must be a positive number, got \(startEpsilonScale)")
        }
        var method = ProgOTMethod()
        method.alpha = alpha
        method.startEpsilonScale = startEpsilonScale
        method.warmStart = warmStart
        method.sinkhorn.threshold = threshold
        method.sinkhorn.maxIterations = maxIterations
        method.startThreshold = start
        return method.progotEstimator()
    }

    private func endScales() throws -> [Double?] {
        try progotEndScales.split(separator: ",").map { part in
            let text = part.trimmingCharacters(in: .whitespaces)
            if text == "tuned" { return nil }
            guard let value = Double(text), value.isFinite, value > 0 else {
                throw CommandError("--progot-end-scales must be positive numbers or 'tuned', separated by commas, got '\(progotEndScales)'")
            }
            return value
        }
    }

    private func numbers(_ text: String, option: String) throws -> [Double] {
        if text == "none" { return [] }
        return try text.split(separator: ",").map { part in
            guard let value = Double(part.trimmingCharacters(in: .whitespaces)), value.isFinite, value > 0 else {
                throw CommandError("\(option) must be positive numbers separated by commas, got '\(text)'")
            }
            return value
        }
    }

    private func integers(_ text: String, option: String) throws -> [Int] {
        if text == "none" { return [] }
        return try text.split(separator: ",").map { part in
            guard let value = Int(part.trimmingCharacters(in: .whitespaces)), value >= 1 else {
                throw CommandError("\(option) must be positive integers separated by commas, got '\(text)'")
            }
            return value
        }
    }

    private struct ReportContext {
        let description: String
        let n: Int, m: Int, d: Int
        let cost: GroundCost
        let epsilonBase: Double
        let paired: Bool
        let wall: Double
    }

    private var columns: [String] {
        ["method", "setting", "epsilon", "cost", "entropy", "iterations", "search_iterations"]
            + ["trace", "kl_from_identity", "mass", "unconverged_runs", "seconds"]
    }

    private func fields(_ row: CouplingRecovery.Row) -> [String] {
        let s = row.statistics
        return [row.method, row.setting, g(row.epsilon), g(s.transportCost), g(s.entropy), String(row.iterations),
                String(row.searchIterations), s.trace.map(g) ?? "", s.klFromIdentity.map(g) ?? "", g(s.mass),
                String(row.unconvergedRuns), String(format: "%.2f", row.seconds)]
    }

    private func table(_ rows: [CouplingRecovery.Row], paired: Bool) -> [String] {
        let keep = columns.indices.filter { paired || !["trace", "kl_from_identity"].contains(columns[$0]) }
        let header = "| " + keep.map { columns[$0] }.joined(separator: " | ") + " |"
        let rule = "|" + String(repeating: "---|", count: keep.count)
        return [header, rule] + rows.map { row in
            let values = fields(row)
            return "| " + keep.map { values[$0] }.joined(separator: " | ") + " |"
        }
    }

    private func write(_ rows: [CouplingRecovery.Row], context: ReportContext, to folder: String) throws {
        let directory = URL(fileURLWithPath: folder, isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let csv = ([columns.joined(separator: ",")] + rows.map { row in
            fields(row).map { $0.contains(",") || $0.contains("\"") ? "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : $0 }
                .joined(separator: ",")
        }).joined(separator: "\n") + "\n"
        let heading = title ?? "Coupling recovery"
        let chart = SVGCharts.lines(
            title: heading, xLabel: "entropy −Σ π log π", yLabel: "transport cost Σ π c",
            series: ["sinkhorn", "progot"].map { method in
                (name: method, points: rows.filter { $0.method == method }.map { row in
                    (x: row.statistics.entropy, y: row.statistics.transportCost,
                     label: row.steps.map { "K=\($0)" } ?? row.setting.replacingOccurrences(of: "ε × ", with: "×"))
                })
            })
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let memory = Double(ProcessInfo.processInfo.physicalMemory) / Double(1 << 30)
        let command = (["perturbot"] + CommandLine.arguments.dropFirst().map(shellQuoted)).joined(separator: " ")
        var markdown = """
            # \(heading)

            Data: \(context.description); \(context.n) source and \(context.m) target points in d = \(context.d).
            Cost: \(context.cost). OTT's default ε of the (x, y) problem: ε₀ = \(g(context.epsilonBase)).
            Sinkhorn: threshold \(g(threshold)) on the L1 error of the column marginal, at most \(maxIterations) iterations a run.
            ProgOT: α schedule \(alpha.rawValue), warm start \(warmStart), first-step threshold \(startThreshold), start ε = \(startEpsilonScale == 1 ? "" : "\(g(startEpsilonScale)) × ")ε₀, end ε tuned on held-out target points (seed \(seed)) or, in rows "end ε × s", s × ε₀ (the schedule ε_k = (1 − t_{k−1}) ε_start + t_{k−1} ε_end never reaches the end ε, so the last step's ε, in the table, is larger); its coupling is the last step's plan.
            Settings: "ε × s" is s × ε₀; "tuned ε (scale s)" is s × OTT's default ε of the (y, y) problem, the scale whose entropic self-map of y moved held-out target points least (eot's choice, and ProgOT's end ε). Iterations: Sinkhorn iterations of the solve (ProgOT: all its steps); search_iterations: those of the held-out ε search before it.\(context.paired ? "\nPaired: row i of the target is the image of row i of the source; trace = Σ_i π_ii (1 for the identity coupling), kl_from_identity = KL(Id/n ‖ π)." : "")

            """
        markdown += "\n" + table(rows, paired: context.paired).joined(separator: "\n") + "\n\n"
        markdown += "![cost against entropy](cost_entropy.svg)\n\n"
        markdown += "Wall time, all rows: \(String(format: "%.1f", context.wall)) s on \(cores) cores, \(String(format: "%.1f", memory)) GiB.\n\n"
        markdown += "Regenerate: `\(command)`\n"
        try Data(csv.utf8).write(to: directory.appendingPathComponent("coupling.csv"), options: .atomic)
        try Data(chart.utf8).write(to: directory.appendingPathComponent("cost_entropy.svg"), options: .atomic)
        try Data(markdown.utf8).write(to: directory.appendingPathComponent("report.md"), options: .atomic)
    }

    private func g(_ value: Double) -> String { String(format: "%.6g", value) }

    /// The argument as a POSIX shell reads it back: single-quoted unless it is plain.
    private func shellQuoted(_ argument: String) -> String {
        let plain = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_./=,:+"))
        if !argument.isEmpty, argument.unicodeScalars.allSatisfy({ plain.contains($0) && $0.isASCII }) { return argument }
        return "'" + argument.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

extension AlphaSchedule: ExpressibleByArgument {}
