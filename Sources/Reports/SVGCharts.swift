import Foundation

/// Small, dependency-free SVG charts for the pipeline report.
public enum SVGCharts {
    private static let palette = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3", "#8c8c8c"]

    /// Grouped bars: one group per method, one bar per d_PCA, height = mean, whisker = ± std.
    public static func bars(title: String, metric: String, methods: [String], components: [Int],
                            value: (String, Int) -> (mean: Double, std: Double)?) -> String {
        groupedBars(title: "\(title): \(metric)", groups: methods, series: components.map { "d = \($0)" },
                    tooltip: { method, index in "\(method) d=\(components[index])" }) { method, index in value(method, components[index]) }
    }

    /// Grouped bars: one group per entry of `groups`, one bar per entry of `series` (coloured,
    /// with a legend), height = mean, whisker = ± std; × where `value` has none.
    public static func groupedBars(title: String, groups: [String], series: [String],
                                   tooltip: ((String, Int) -> String)? = nil,
                                   value: (String, Int) -> (mean: Double, std: Double)?) -> String {
        let width = 120 + groups.count * (series.count * 22 + 18), height = 320
        let plotTop = 40.0, plotBottom = Double(height) - 70, plotLeft = 70.0
        let tops = groups.flatMap { g in series.indices.compactMap { k in value(g, k).map { $0.mean + $0.std } } }
        let maximum = Swift.max(tops.filter(\.isFinite).max() ?? 1, 1e-12)
        func y(_ v: Double) -> Double { plotBottom - (plotBottom - plotTop) * Swift.max(0, v) / maximum }
        var svg = header(width: width, height: height, title: title)
        svg += line(plotLeft, plotBottom, Double(width) - 20, plotBottom) + line(plotLeft, plotTop, plotLeft, plotBottom)
        for tick in 0...4 {
            let v = maximum * Double(tick) / 4
            svg += text(plotLeft - 6, y(v) + 4, format(v), anchor: "end", size: 10)
        }
        var x = plotLeft + 12
        for group in groups {
            let groupStart = x
            for index in series.indices {
                if let entry = value(group, index), entry.mean.isFinite {
                    let top = y(entry.mean)
                    let label = tooltip?(group, index) ?? "\(group) \(series[index])"
                    svg += "<rect x=\"\(f(x))\" y=\"\(f(top))\" width=\"18\" height=\"\(f(plotBottom - top))\" fill=\"\(palette[index % palette.count])\"><title>\(escape(label)): \(format(entry.mean)) ± \(format(entry.std))</title></rect>\n"
                    svg += line(x + 9, y(entry.mean - entry.std), x + 9, y(entry.mean + entry.std))
                } else {
                    svg += text(x + 9, plotBottom - 4, "×", anchor: "middle", size: 12)
                }
                x += 22
            }
            svg += text((groupStart + x - 4) / 2, plotBottom + 16, group, anchor: "middle", size: 11)
            x += 18
        }
        for (index, name) in series.enumerated() {
            let lx = plotLeft + Double(index) * 70
            svg += "<rect x=\"\(f(lx))\" y=\"\(f(plotBottom + 34))\" width=\"12\" height=\"12\" fill=\"\(palette[index % palette.count])\"/>\n"
            svg += text(lx + 16, plotBottom + 44, name, anchor: "start", size: 11)
        }
        return svg + "</svg>\n"
    }

    /// Small multiples in one plane (PC 1–2): a panel per cloud of `panels`, each drawn over
    /// `reference` (the test treated cells) as grey density shading — a grid of 28 × 28 bins,
    /// darker where more cells fall — with the same axes in every panel, so that where each
    /// method lands can be told apart without eight colours on top of each other. Each cloud is
    /// thinned to at most `maximumPoints` points (every k-th, in order), said in the title.
    /// Compact for pages holding dozens of these: the shading is drawn once (`<defs>`, under the
    /// `identifier`, unique in a page) and reused by every panel, and each cloud is one path.
    public static func smallMultiples(title: String, reference: (name: String, points: [[Float]]),
                                      panels: [(name: String, points: [[Float]])], maximumPoints: Int = 300,
                                      axes: (String, String) = ("PC 1", "PC 2"), identifier: String = "density") -> String {
        let panelSize = 210.0, gap = 16.0, columns = Swift.max(1, Swift.min(4, panels.count)), top = 44.0, left = 12.0
        let rowsCount = (panels.count + columns - 1) / columns
        let width = Int(left * 2 + Double(columns) * (panelSize + gap)), height = Int(top + Double(rowsCount) * (panelSize + 34) + 8)
        let all = (panels.flatMap(\.points) + reference.points).filter { $0.count >= 2 }
        let xs = all.map { Double($0[0]) }, ys = all.map { Double($0[1]) }
        let (x0, x1) = padded(xs.min() ?? 0, xs.max() ?? 1), (y0, y1) = padded(ys.min() ?? 0, ys.max() ?? 1)
        let largest = ([reference.points.count] + panels.map(\.points.count)).max() ?? 0
        let thinned = largest > maximumPoints ? " (each cloud thinned to \(maximumPoints) of its points)" : ""
        var svg = header(width: width, height: height, title: title + thinned)
        svg += text(Double(width) / 2, 38, "grey: \(reference.name) (density); points: each panel's cells; axes \(axes.0), \(axes.1), shared", anchor: "middle", size: 10)
        // The reference's density: bins drawn in six shades, one path each, in panel coordinates.
        let bins = 28, cell = panelSize / Double(bins)
        var counts = [Int](repeating: 0, count: bins * bins)
        for point in reference.points where point.count >= 2 {
            let i = Swift.min(bins - 1, Swift.max(0, Int((Double(point[0]) - x0) / (x1 - x0) * Double(bins))))
            let j = Swift.min(bins - 1, Swift.max(0, Int((Double(point[1]) - y0) / (y1 - y0) * Double(bins))))
            counts[j * bins + i] += 1
        }
        let densest = Double(counts.max() ?? 1), shades = 6
        var paths = [String](repeating: "", count: shades)
        for (bin, count) in counts.enumerated() where count > 0 {
            let shade = Swift.min(shades - 1, Int(Double(shades) * Double(count) / densest))
            paths[shade] += "M\(f(Double(bin % bins) * cell)) \(f(panelSize - Double(bin / bins + 1) * cell))h\(f(cell))v\(f(cell))h-\(f(cell))z"
        }
        svg += "<defs><g id=\"\(identifier)\" fill=\"#555\">"
        for (shade, path) in paths.enumerated() where !path.isEmpty {
            svg += "<path fill-opacity=\"\(String(format: "%.2f", 0.1 + 0.5 * Double(shade + 1) / Double(shades)))\" d=\"\(path)\"/>"
        }
        svg += "</g></defs>\n"
        for (index, panel) in panels.enumerated() {
            let ox = left + Double(index % columns) * (panelSize + gap), oy = top + 14 + Double(index / columns) * (panelSize + 34)
            svg += text(ox + panelSize / 2, oy - 4, panel.name, anchor: "middle", size: 12)
            svg += "<rect x=\"\(f(ox))\" y=\"\(f(oy))\" width=\"\(f(panelSize))\" height=\"\(f(panelSize))\" fill=\"white\" stroke=\"#999\"/>\n"
            svg += "<use href=\"#\(identifier)\" transform=\"translate(\(f(ox)) \(f(oy)))\"/>\n"
            // Each point a round dot: a zero-length segment with a round cap.
            let step = Swift.max(1, (panel.points.count + maximumPoints - 1) / maximumPoints)
            var dots = ""
            for position in stride(from: 0, to: panel.points.count, by: step) where panel.points[position].count >= 2 {
                let point = panel.points[position]
                dots += "M\(f(ox + panelSize * (Double(point[0]) - x0) / (x1 - x0))) \(f(oy + panelSize * (1 - (Double(point[1]) - y0) / (y1 - y0))))h0"
            }
            svg += "<path stroke=\"\(palette[index % palette.count])\" stroke-opacity=\"0.75\" stroke-width=\"3.6\" stroke-linecap=\"round\" fill=\"none\" d=\"\(dots)\"/>\n"
        }
        return svg + "</svg>\n"
    }

    /// Labelled points joined in order, one colour per series, on labelled axes: e.g. a plan's
    /// transport cost against its entropy, one series per solver, one point per setting.
    public static func lines(title: String, xLabel: String, yLabel: String,
                             series: [(name: String, points: [(x: Double, y: Double, label: String)])]) -> String {
        let width = 560, height = 420, left = 80.0, right = 150.0, top = 40.0, bottom = 60.0
        let all = series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite }
        let (x0, x1) = padded(all.map(\.x).min() ?? 0, all.map(\.x).max() ?? 1)
        let (y0, y1) = padded(all.map(\.y).min() ?? 0, all.map(\.y).max() ?? 1)
        let plotWidth = Double(width) - left - right, plotHeight = Double(height) - top - bottom
        func px(_ v: Double) -> Double { left + plotWidth * (v - x0) / (x1 - x0) }
        func py(_ v: Double) -> Double { top + plotHeight * (1 - (v - y0) / (y1 - y0)) }
        var svg = header(width: width, height: height, title: title)
        svg += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotWidth))\" height=\"\(f(plotHeight))\" fill=\"none\" stroke=\"#999\"/>\n"
        for tick in 0...4 {
            let xv = x0 + (x1 - x0) * Double(tick) / 4, yv = y0 + (y1 - y0) * Double(tick) / 4
            svg += text(px(xv), top + plotHeight + 16, format(xv), anchor: "middle", size: 10)
            svg += text(left - 6, py(yv) + 4, format(yv), anchor: "end", size: 10)
        }
        svg += text(left + plotWidth / 2, Double(height) - 16, xLabel, anchor: "middle", size: 11)
        svg += "<text x=\"16\" y=\"\(f(top + plotHeight / 2))\" text-anchor=\"middle\" font-size=\"11\" transform=\"rotate(-90 16 \(f(top + plotHeight / 2)))\">\(escape(yLabel))</text>\n"
        for (index, entry) in series.enumerated() {
            let colour = palette[index % palette.count]
            let points = entry.points.filter { $0.x.isFinite && $0.y.isFinite }
            if points.count > 1 {
                let path = points.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
                svg += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1.5\"/>\n"
            }
            for point in points {
                svg += "<circle cx=\"\(f(px(point.x)))\" cy=\"\(f(py(point.y)))\" r=\"3.5\" fill=\"\(colour)\"><title>\(escape(entry.name)) \(escape(point.label)): (\(format(point.x)), \(format(point.y)))</title></circle>\n"
                svg += text(px(point.x) + 5, py(point.y) - 5, point.label, anchor: "start", size: 9)
            }
            let ly = top + 10 + Double(index) * 18
            svg += "<circle cx=\"\(f(Double(width) - right + 16))\" cy=\"\(f(ly))\" r=\"5\" fill=\"\(colour)\"/>\n"
            svg += text(Double(width) - right + 26, ly + 4, entry.name, anchor: "start", size: 11)
        }
        return svg + "</svg>\n"
    }

    /// A grid of coloured cells, one row per entry and one column per name: blue for 1, white
    /// for 0, red below 0 (a normalised score), grey where the value is missing. Rows are at
    /// most 10 and at least 1 pixel high; their labels are drawn when they are 8 or more.
    public static func heatmap(title: String, rows: [(label: String, values: [Double?])], columns: [String]) -> String {
        let rowHeight = Swift.max(1, Swift.min(10, 900 / Swift.max(1, rows.count)))
        let labelled = rowHeight >= 8
        let left = labelled ? 150.0 : 40.0, top = 60.0, cellWidth = 70.0, legend = 150.0
        let width = Swift.max(560, Int(left + cellWidth * Double(columns.count) + legend))
        let height = Int(Swift.max(top + Double(rowHeight * rows.count) + 30, top + 5 * 18 + 16))  // the legend's five rows fit
        var svg = header(width: width, height: height, title: title)
        for (index, column) in columns.enumerated() {
            svg += text(left + cellWidth * (Double(index) + 0.5), top - 8, column, anchor: "middle", size: 10)
        }
        func colour(_ value: Double?) -> String {
            guard let value, value.isFinite else { return "#d9d9d9" }
            // 0 white → 1 blue; below 0 toward red at −1; above 1 darker blue.
            let t = Swift.max(-1, Swift.min(1.5, value))
            let (r, g, b): (Double, Double, Double) = t >= 0
                ? (255 - 179 * Swift.min(1, t) - 40 * Swift.max(0, t - 1), 255 - 141 * Swift.min(1, t) - 40 * Swift.max(0, t - 1), 255 - 79 * Swift.min(1, t))
                : (255, 255 + 178 * t, 255 + 178 * t)
            return String(format: "#%02x%02x%02x", Int(r.rounded()), Int(g.rounded()), Int(b.rounded()))
        }
        for (rowIndex, row) in rows.enumerated() {
            let y = top + Double(rowIndex * rowHeight)
            if labelled { svg += text(left - 6, y + Double(rowHeight) - 1, row.label, anchor: "end", size: 8) }
            for (index, value) in row.values.enumerated() {
                svg += "<rect x=\"\(f(left + cellWidth * Double(index)))\" y=\"\(f(y))\" width=\"\(f(cellWidth))\" height=\"\(rowHeight)\" fill=\"\(colour(value))\">"
                    + "<title>\(escape(row.label)) \(escape(columns[index])): \(value.map(format) ?? "none")</title></rect>\n"
            }
        }
        let legendX = left + cellWidth * Double(columns.count) + 20
        for (index, entry) in [(1.0, "1 (noise ceiling)"), (0.5, "0.5"), (0.0, "0 (unmoved)"), (-1.0, "≤ −1"), (Double.nan, "within noise")].enumerated() {
            let y = top + Double(index) * 18
            svg += "<rect x=\"\(f(legendX))\" y=\"\(f(y))\" width=\"12\" height=\"12\" fill=\"\(colour(entry.0.isNaN ? nil : entry.0))\" stroke=\"#999\"/>\n"
            svg += text(legendX + 18, y + 10, entry.1, anchor: "start", size: 10)
        }
        return svg + "</svg>\n"
    }

    private static func header(width: Int, height: Int, title: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" font-family=\"sans-serif\">\n"
            + "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n" + text(Double(width) / 2, 22, title, anchor: "middle", size: 14)
    }

    private static func padded(_ low: Double, _ high: Double) -> (Double, Double) {
        let pad = Swift.max((high - low) * 0.05, 1e-9)
        return (low - pad, high + pad)
    }

    private static func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double) -> String {
        "<line x1=\"\(f(x1))\" y1=\"\(f(y1))\" x2=\"\(f(x2))\" y2=\"\(f(y2))\" stroke=\"#333\" stroke-width=\"1\"/>\n"
    }

    private static func text(_ x: Double, _ y: Double, _ content: String, anchor: String, size: Int) -> String {
        "<text x=\"\(f(x))\" y=\"\(f(y))\" text-anchor=\"\(anchor)\" font-size=\"\(size)\">\(escape(content))</text>\n"
    }

    private static func f(_ v: Double) -> String { String(format: "%.1f", v) }

    private static func format(_ v: Double) -> String {
        abs(v) >= 1e4 || (abs(v) < 1e-2 && v != 0) ? String(format: "%.2e", v) : String(format: "%.3g", v)
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
