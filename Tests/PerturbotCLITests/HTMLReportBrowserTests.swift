import Foundation
import TestSupport
import XCTest

/// `report.html` in a real headless Chromium: the page loads from disk with no script error, a
/// click on a header sorts its table (the page's own `#selfcheck`, read from the DOM Chromium
/// dumps), and a screenshot is not blank. Skipped, saying so, where Chromium is absent; CI
/// installs Debian's `chromium` and fails the test without it.
final class HTMLReportBrowserTests: XCTestCase {
    private func chromium() throws -> String? {
        let candidates = [ProcessInfo.processInfo.environment["PERTURBOT_CHROMIUM"], "/usr/bin/chromium", "/usr/bin/chromium-browser",
                          "/usr/bin/google-chrome"].compactMap { $0 }
        if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) { return found }
        if ProcessRunner.isCI {
            XCTFail("CI=true but no Chromium (install Debian's chromium or set PERTURBOT_CHROMIUM)")
            return nil
        }
        throw XCTSkip("no Chromium here (/usr/bin/chromium, or PERTURBOT_CHROMIUM): the report is not opened in a browser")
    }

    private func headless(_ chromium: String, _ arguments: [String]) throws -> ProcessResult {
        try ProcessRunner.run(chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
                                         "--disable-dev-shm-usage", "--user-data-dir=\(try TestPaths.scratchDirectory().path)"] + arguments)
    }

    func testTheDemoReportSortsAndRendersInChromium() throws {
        guard let chromium = try chromium() else { return }
        let folder = try TestPaths.scratchDirectory()
        let file = try CLI.smallPipeline(in: folder, name: "html", drugs: ["cisplatin", "melphalan"], components: [4],
                                         methods: ["identity: { solver: identity }", "mean_shift: { solver: mean_shift }",
                                                   "eot: { solver: eot, epsilon: 0.5 }"],
                                         controlCells: 300, drugCells: 150, dataSeed: 4)
        let run = try CLI.run(["run", file, "--quiet"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let page = folder.appendingPathComponent("reports/html/report.html")
        let html = try String(contentsOf: page, encoding: .utf8)
        // Nothing fetched: no src or href, no stylesheet link, import or url(…) (SVG's xmlns is a name, not a fetch).
        for fetch in ["src=", "href=\"http", "href=\"/", "<link", "@import", "url("] { XCTAssertFalse(html.contains(fetch), "the page fetches: \(fetch)") }

        let dom = try headless(chromium, ["--virtual-time-budget=5000", "--dump-dom", page.absoluteString + "#selfcheck"])
        XCTAssertEqual(dom.status, 0, dom.stderr)
        let check = dom.stdout.range(of: "<pre id=\"selfcheck\">").map { dom.stdout[$0.upperBound...].prefix { $0 != "<" } }
        XCTAssertEqual(check.map(String.init)?.hasPrefix("ok: "), true, "self-check: \(check ?? "absent")")

        let screenshot = folder.appendingPathComponent("report.png")
        let shot = try headless(chromium, ["--window-size=1280,1800", "--screenshot=\(screenshot.path)", page.absoluteString])
        XCTAssertEqual(shot.status, 0, shot.stderr)
        let png = try Data(contentsOf: screenshot)
        XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "not a PNG")
        // A blank 1280 × 1800 page compresses to a few kilobytes; text, tables and charts do not.
        XCTAssertGreaterThan(png.count, 60_000, "the screenshot looks blank")
        // With CI's python (matplotlib brings Pillow): the pixels themselves, not only the file size.
        if let python = ProcessInfo.processInfo.environment["PERTURBOT_PYTHON"], FileManager.default.isExecutableFile(atPath: python) {
            let pixels = try ProcessRunner.run(python, ["-c", """
                import sys
                from PIL import Image
                image = Image.open(sys.argv[1]).convert("RGB")
                values = list(image.getdata())
                print(sum(1 for v in values if v != (255, 255, 255)) / len(values), len(set(values)))
                """, screenshot.path])
            XCTAssertEqual(pixels.status, 0, pixels.stderr)
            let figures = pixels.stdout.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            XCTAssertEqual(figures.count, 2, pixels.stdout)
            XCTAssertGreaterThan(figures.first ?? 0, 0.02, "under 2 % of the screenshot's pixels are not white")
            XCTAssertGreaterThan(figures.last ?? 0, 50, "fewer than 50 colours: no charts drawn")
        }
        if let keep = ProcessInfo.processInfo.environment["PERTURBOT_SCREENSHOT_DIR"] {
            try? FileManager.default.copyItem(at: screenshot, to: URL(fileURLWithPath: keep).appendingPathComponent("report.png"))
        }
    }
}
