import FulcrumCore

/// Inline SVG charts for the HTML report: no script, no network.
enum Chart {
    struct Series {
        var name: String
        var color: String
        var values: [Double]
    }

    static let palette = ["#1f6fd1", "#e8750c", "#2a9d3a", "#c8283c"]
    static let width = 900.0
    static let height = 260.0
    static let margin = (left: 70.0, right: 20.0, top: 16.0, bottom: 44.0)

    private static func number(_ value: Double) -> String { Format.fixed(value, 1) }

    /// Axes, horizontal grid lines with values, x labels and a legend.
    private static func frame(id: String, labels: [String], maximum: Double, series: [Series], body: String) -> String {
        let plotHeight = height - margin.top - margin.bottom
        var svg = "<svg id=\"\(id)\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(number(width))\" height=\"\(number(height))\" viewBox=\"0 0 \(number(width)) \(number(height))\">"
        for step in 0...4 {
            let value = maximum * Double(step) / 4
            let y = margin.top + plotHeight * (1 - Double(step) / 4)
            svg += "<line x1=\"\(number(margin.left))\" y1=\"\(number(y))\" x2=\"\(number(width - margin.right))\" y2=\"\(number(y))\" stroke=\"#ddd\"/>"
            svg += "<text x=\"\(number(margin.left - 6))\" y=\"\(number(y + 4))\" text-anchor=\"end\">\(axisLabel(value))</text>"
        }
        let slot = (width - margin.left - margin.right) / Double(max(1, labels.count))
        for (index, label) in labels.enumerated() {
            let x = margin.left + slot * (Double(index) + 0.5)
            svg += "<text x=\"\(number(x))\" y=\"\(number(height - margin.bottom + 16))\" text-anchor=\"middle\">\(HTML.escape(label))</text>"
        }
        svg += body
        var legendX = margin.left
        for item in series {
            svg += "<rect x=\"\(number(legendX))\" y=\"\(number(height - 16))\" width=\"12\" height=\"12\" fill=\"\(item.color)\"/>"
            svg += "<text x=\"\(number(legendX + 16))\" y=\"\(number(height - 6))\">\(HTML.escape(item.name))</text>"
            legendX += 24 + Double(item.name.count) * 7
        }
        return svg + "</svg>"
    }

    private static func axisLabel(_ value: Double) -> String {
        if value >= 10_000 { return Format.grouped(Int(value.rounded())) }
        if value >= 10 { return Format.fixed(value, 0) }
        return Format.fixed(value, 2)
    }

    /// A value range's top, with headroom.
    private static func top(_ series: [Series]) -> Double {
        max(series.flatMap(\.values).max() ?? 0, 1e-9) * 1.1
    }

    static func lines(id: String, labels: [String], series: [Series]) -> String {
        let maximum = top(series)
        let plotHeight = height - margin.top - margin.bottom
        let slot = (width - margin.left - margin.right) / Double(max(1, labels.count))
        var body = ""
        for item in series {
            let points = item.values.enumerated().map { index, value in
                "\(number(margin.left + slot * (Double(index) + 0.5))),\(number(margin.top + plotHeight * (1 - value / maximum)))"
            }
            body += "<polyline class=\"series\" fill=\"none\" stroke=\"\(item.color)\" stroke-width=\"3\" points=\"\(points.joined(separator: " "))\"/>"
            for point in points {
                let xy = point.split(separator: ",")
                body += "<circle cx=\"\(xy[0])\" cy=\"\(xy[1])\" r=\"4\" fill=\"\(item.color)\"/>"
            }
        }
        return frame(id: id, labels: labels, maximum: maximum, series: series, body: body)
    }

    static func bars(id: String, labels: [String], series: [Series]) -> String {
        let maximum = top(series)
        let plotHeight = height - margin.top - margin.bottom
        let slot = (width - margin.left - margin.right) / Double(max(1, labels.count))
        let barWidth = slot * 0.8 / Double(max(1, series.count))
        var body = ""
        for (seriesIndex, item) in series.enumerated() {
            for (index, value) in item.values.enumerated() {
                let barHeight = plotHeight * value / maximum
                let x = margin.left + slot * Double(index) + slot * 0.1 + barWidth * Double(seriesIndex)
                body += "<rect class=\"bar\" x=\"\(number(x))\" y=\"\(number(margin.top + plotHeight - barHeight))\" width=\"\(number(barWidth))\" height=\"\(number(barHeight))\" fill=\"\(item.color)\"><title>\(HTML.escape(item.name)): \(Format.fixed(value, 3))</title></rect>"
            }
        }
        return frame(id: id, labels: labels, maximum: maximum, series: series, body: body)
    }

    /// Nodes × days, coloured by utilization of capacity (or, without a
    /// capacity, by units against the busiest node-day), white to dark red.
    static func heatMap(id: String, columns: [String], rows: [NodeLoad]) -> String {
        let cellWidth = min(90, (width - 150) / Double(max(1, columns.count)))
        let cellHeight = 16.0
        let mapHeight = 30 + cellHeight * Double(rows.count)
        let busiest = Double(max(1, rows.flatMap(\.unitsPerDay).max() ?? 1))
        var svg = "<svg id=\"\(id)\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(number(150 + cellWidth * Double(columns.count)))\" height=\"\(number(mapHeight))\">"
        for (index, column) in columns.enumerated() {
            svg += "<text x=\"\(number(150 + cellWidth * (Double(index) + 0.5)))\" y=\"12\" text-anchor=\"middle\">\(HTML.escape(column))</text>"
        }
        for (rowIndex, row) in rows.enumerated() {
            let y = 20 + cellHeight * Double(rowIndex)
            svg += "<text x=\"144\" y=\"\(number(y + 12))\" text-anchor=\"end\">\(HTML.escape(row.node))</text>"
            for (day, units) in row.unitsPerDay.enumerated() {
                let level = min(1, row.utilizationPerDay?[day] ?? Double(units) / busiest)
                let label = row.utilizationPerDay.map { "\(Format.percent($0[day])) of capacity" } ?? "\(Format.grouped(units)) units"
                svg += "<rect class=\"cell\" x=\"\(number(150 + cellWidth * Double(day)))\" y=\"\(number(y))\" width=\"\(number(cellWidth - 1))\" height=\"\(number(cellHeight - 1))\" fill=\"\(heat(level))\"><title>\(HTML.escape(row.node)) \(HTML.escape(columns[day])): \(label)</title></rect>"
            }
        }
        return svg + "</svg>"
    }

    /// White (0) to dark red (1).
    static func heat(_ level: Double) -> String {
        let clamped = max(0, min(1, level))
        let red = Int(255 - 75 * clamped)
        let other = Int(255 - 235 * clamped)
        func hex(_ value: Int) -> String {
            let digits = String(value, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }
        return "#\(hex(red))\(hex(other))\(hex(other))"
    }

    /// Optimize latency: calls per bucket, one bar per strategy.
    static func histogram(id: String, strategies: [StrategyResult], colors: [String]) -> String {
        let longest = strategies.max { $0.timing.latencyHistogram.count < $1.timing.latencyHistogram.count }?.timing.latencyHistogram ?? []
        let labels = longest.map { axisLabel($0.upToMicroseconds) }
        let series = zip(strategies, colors).map { result, color in
            Series(name: result.strategy, color: color, values: labels.indices.map { index in
                index < result.timing.latencyHistogram.count ? Double(result.timing.latencyHistogram[index].count) : 0
            })
        }
        return bars(id: id, labels: labels, series: series)
    }
}
