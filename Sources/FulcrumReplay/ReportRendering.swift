import FulcrumCore

/// A table of the report, rendered as Markdown or HTML from the same cells.
struct ReportTable {
    var header: [String]
    var rows: [[String]]

    func markdown() -> String {
        var lines = ["| " + header.joined(separator: " | ") + " |"]
        lines.append("|" + header.enumerated().map { $0.offset == 0 ? "---" : "---:" }.joined(separator: "|") + "|")
        for row in rows { lines.append("| " + row.joined(separator: " | ") + " |") }
        return lines.joined(separator: "\n")
    }

    func html() -> String {
        var out = "<table><thead><tr>" + header.map { "<th>\(HTML.escape($0))</th>" }.joined() + "</tr></thead><tbody>"
        for row in rows {
            out += "<tr>" + row.enumerated().map { $0.offset == 0 ? "<th>\(HTML.escape($0.element))</th>" : "<td>\(HTML.escape($0.element))</td>" }.joined() + "</tr>"
        }
        return out + "</tbody></table>"
    }
}

extension ReplayReport {
    /// The strategies side by side (the last two rows are wall-clock timings).
    var summaryTable: ReportTable {
        func row(_ label: String, _ cell: (StrategyResult) -> String) -> [String] { [label] + strategies.map(cell) }
        return ReportTable(
            header: ["KPI"] + strategies.map(\.strategy),
            rows: [
                row("Orders") { Format.grouped($0.totals.orders) },
                row("Shipping cost") { Format.money($0.totals.cost) },
                row("Cost per shipped order") { Format.money($0.totals.costPerOrder) },
                row("Shipments per order") { Format.fixed($0.totals.shipmentsPerOrder, 3) },
                row("Split orders") { Format.percent($0.totals.splitRate) },
                row("Distance per unit (km)") { Format.fixed($0.totals.distancePerUnitKilometers, 1) },
                row("Fill rate") { Format.percent($0.totals.fillRate) },
                row("Units backordered") { Format.grouped($0.totals.unitsBackordered) },
                row("Orders not shippable") { Format.grouped($0.totals.ordersNotShippable) },
                row("Orders abandoned (expired)") { Format.grouped($0.totals.ordersAbandoned) },
                row("SKUs stocked out") { Format.grouped($0.skusStockedOut) },
                row("Optimize p50 / p99 (µs)") {
                    "\(Format.fixed($0.timing.latencyP50Microseconds, 0)) / \(Format.fixed($0.timing.latencyP99Microseconds, 0))"
                },
                row("Orders/s (wall clock)") { Format.grouped(Int($0.timing.ordersPerSecond.rounded())) },
            ])
    }

    func dayTable(_ result: StrategyResult) -> ReportTable {
        ReportTable(
            header: ["Day", "Orders", "Cost", "Cost/order", "Shipments/order", "Fill rate", "Backordered", "Not shippable"],
            rows: result.days.map { day in
                [
                    day.date, Format.grouped(day.kpis.orders), Format.money(day.kpis.cost), Format.money(day.kpis.costPerOrder),
                    Format.fixed(day.kpis.shipmentsPerOrder, 3), Format.percent(day.kpis.fillRate),
                    Format.grouped(day.kpis.unitsBackordered), Format.grouped(day.kpis.ordersNotShippable),
                ]
            })
    }

    func nodeTable(_ result: StrategyResult) -> ReportTable {
        ReportTable(
            header: ["Node", "Capacity/day"] + result.days.map(\.date) + ["Units"],
            rows: result.nodes.map { node in
                let perDay = node.unitsPerDay.enumerated().map { day, units in
                    node.utilizationPerDay.map { "\(Format.grouped(units)) (\(Format.percent($0[day])))" } ?? Format.grouped(units)
                }
                return [node.node, node.capacityPerDay.map(Format.grouped) ?? "—"] + perDay + [Format.grouped(node.units)]
            })
    }

    func stockoutTable(_ result: StrategyResult) -> ReportTable {
        ReportTable(
            header: ["SKU", "Units backordered", "Lines", "First day"],
            rows: result.stockouts.map {
                [$0.sku, Format.grouped($0.unitsBackordered), Format.grouped($0.linesBackordered), result.days[$0.firstDay].date]
            })
    }

    /// The anomalies the replay's hours raise (they come from demand and
    /// supply, so every strategy finds the same: the first's are shown).
    var anomalyTable: ReportTable? {
        guard let anomalies = strategies.first?.anomalies, !anomalies.isEmpty else { return nil }
        return ReportTable(
            header: ["Hour (UTC)", "Stream", "Of", "Observed", "Expected", "Score", "Baseline"],
            rows: anomalies.map {
                let day = CivilDate.string(daysSinceEpoch: $0.hourStartMs / Scenario.dayMilliseconds)
                let hour = ($0.hourStartMs % Scenario.dayMilliseconds) / 3_600_000
                return [
                    "\(day) \(hour < 10 ? "0" : "")\(hour):00", $0.stream.rawValue, $0.subject.isEmpty ? "(no channel)" : $0.subject,
                    Format.grouped(Int($0.observed)), "\(($0.expected * 10).rounded() / 10) ± \(($0.deviation * 10).rounded() / 10)",
                    "\(($0.score * 10).rounded() / 10)", $0.baseline,
                ]
            })
    }

    private static let anomalyNote =
        "Hours whose order intake, demand per SKU or shrinkage per node stood out from the same hour of earlier days "
        + "(scaled by the demand's planned day multipliers), scored as fulcrumd scores its live hours (docs/insights.md)."

    private var heading: String {
        "\(scenario.start), \(scenario.days) days, seed \(scenario.seed) · \(Format.grouped(scenario.orders)) orders · "
            + "\(scenario.nodes) nodes · \(Format.grouped(scenario.skus)) SKUs"
            + (scenario.batchMinutes > 0 ? " · batches every \(scenario.batchMinutes) simulated minutes" : " · orders optimized one by one")
    }

    public func markdown() -> String {
        var parts = ["# Replay: \(scenario.name)"]
        if !scenario.description.isEmpty { parts.append(scenario.description) }
        parts.append(heading)
        parts.append(summaryTable.markdown())
        if !comparisons.isEmpty { parts.append(comparisons.map { "- \($0.summary)" }.joined(separator: "\n")) }
        parts.append("## Anomalies")
        parts.append(anomalyTable.map { Self.anomalyNote + "\n\n" + $0.markdown() } ?? "None: no hour stood out.")
        for result in strategies {
            parts.append("## \(result.strategy): per day")
            parts.append(dayTable(result).markdown())
            parts.append("## \(result.strategy): units sent per node")
            parts.append(nodeTable(result).markdown())
            if !result.stockouts.isEmpty {
                parts.append("## \(result.strategy): stock-outs (\(result.skusStockedOut) SKUs)")
                parts.append(stockoutTable(result).markdown())
            }
        }
        return parts.joined(separator: "\n\n") + "\n"
    }

    public func html() -> String {
        let palette = Chart.palette
        var body = "<h1>Replay: \(HTML.escape(scenario.name))</h1>"
        if !scenario.description.isEmpty { body += "<p>\(HTML.escape(scenario.description))</p>" }
        body += "<p class=\"meta\">\(HTML.escape(heading))</p>"
        body += summaryTable.html()
        if !comparisons.isEmpty { body += "<ul>" + comparisons.map { "<li>\(HTML.escape($0.summary))</li>" }.joined() + "</ul>" }
        body += "<h2>Anomalies</h2>"
        body += anomalyTable.map { "<p class=\"meta\">\(HTML.escape(Self.anomalyNote))</p>" + $0.html() } ?? "<p class=\"meta\">None: no hour stood out.</p>"
        let dates = strategies[0].days.map { String($0.date.suffix(5)) }
        let series = strategies.enumerated().map { index, result in
            Chart.Series(name: result.strategy, color: palette[index % palette.count], values: [])
        }
        func withValues(_ values: (StrategyResult) -> [Double]) -> [Chart.Series] {
            zip(series, strategies).map { Chart.Series(name: $0.name, color: $0.color, values: values($1)) }
        }
        body += "<h2>Shipping cost per day</h2>"
        body += Chart.lines(id: "cost-per-day", labels: dates, series: withValues { $0.days.map(\.kpis.cost) })
        body += "<h2>Shipments per order, per day</h2>"
        body += Chart.bars(id: "split-rate", labels: dates, series: withValues { $0.days.map(\.kpis.shipmentsPerOrder) })
        for (index, result) in strategies.enumerated() {
            body += "<h2>Node utilization: \(HTML.escape(result.strategy))</h2>"
            body += Chart.heatMap(id: "utilization-\(index)", columns: dates, rows: result.nodes)
            body += "<p class=\"meta\">Units sent per day against the node's daily capacity: white idle, dark red full "
                + "(a node without a capacity: against the busiest node-day). Hover a cell for its value.</p>"
        }
        body += "<h2>Optimize latency (µs, wall clock)</h2>"
        body += Chart.histogram(id: "latency", strategies: strategies, colors: series.map(\.color))
        for result in strategies {
            body += "<h2>\(HTML.escape(result.strategy)): per day</h2>" + dayTable(result).html()
            if !result.stockouts.isEmpty {
                body += "<h2>\(HTML.escape(result.strategy)): stock-outs (\(result.skusStockedOut) SKUs)</h2>" + stockoutTable(result).html()
            }
        }
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Replay: \(HTML.escape(scenario.name))</title>
            <style>
            body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; max-width: 1100px; }
            table { border-collapse: collapse; margin: 12px 0; }
            th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
            th:first-child { text-align: left; }
            thead th { background: #f3f3f3; }
            .meta { color: #555; }
            svg { display: block; margin: 8px 0 16px; }
            svg text { font: 11px system-ui, sans-serif; fill: #333; }
            </style></head><body>
            \(body)
            </body></html>

            """
    }
}

enum HTML {
    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(character)
            }
        }
        return out
    }
}
