import Foundation

/// Locations the test targets share: the committed fixtures and a scratch directory.
public enum TestPaths {
    /// `Tests/Fixtures/h5ad`, found from this source file's location.
    public static let h5adFixtures: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // TestSupport
        .deletingLastPathComponent()  // Tests
        .appendingPathComponent("Fixtures/h5ad")

    /// Names (without extension) of fixture files `perturbot inspect` must describe.
    public static func fixturesWithInspectExpectation() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: h5adFixtures.path)
            .filter { $0.hasSuffix(".json") }
            .map { String($0.dropLast(5)) }
            .filter { name in (try? expectation(name)["inspect"]) != nil }
            .sorted()
    }

    /// The JSON the fixture script wrote beside `name.h5ad`.
    public static func expectation(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: h5adFixtures.appendingPathComponent("\(name).json"))
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw CocoaError(.fileReadCorruptFile)
        }
        return object
    }

    public static func fixture(_ name: String) -> String {
        h5adFixtures.appendingPathComponent("\(name).h5ad").path
    }

    /// A fresh empty directory under the system temporary directory.
    public static func scratchDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("perturbot-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A copy of fixture `name` cut to `fraction` of its bytes (a truncated download).
    public static func truncatedCopy(of name: String, fraction: Double, in directory: URL) throws -> String {
        let data = try Data(contentsOf: URL(fileURLWithPath: fixture(name)))
        let target = directory.appendingPathComponent("truncated.h5ad")
        try data.prefix(Int(Double(data.count) * fraction)).write(to: target)
        return target.path
    }
}

extension TestPaths {
    /// `Tests/Fixtures/ot`: point clouds and OTT-JAX / POT reference values.
    /// The repository's root folder.
    public static let repository: URL = h5adFixtures.deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    public static let otFixtures: URL = h5adFixtures.deletingLastPathComponent().appendingPathComponent("ot")

    /// A CSV of numbers (one point per row) as rows of Double.
    public static func numericCSV(_ url: URL) throws -> [[Double]] {
        let text = try String(contentsOf: url, encoding: .utf8)
        return try text.split(whereSeparator: \.isNewline).map { line in
            try line.split(separator: ",").map { field in
                guard let value = Double(field.trimmingCharacters(in: .whitespaces)) else {
                    throw CocoaError(.fileReadCorruptFile)
                }
                return value
            }
        }
    }
}
