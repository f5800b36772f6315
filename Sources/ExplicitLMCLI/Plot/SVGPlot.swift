import Foundation

/// Line charts stacked one above the other over a shared x axis, as one standalone SVG document
/// (no scripts, links or web fonts, so it opens the same anywhere). Each panel has its own y axis,
/// grid, ticks and a legend to the right; each series is one <path>, with dots when it has few points.
struct SVGPlot {
    struct Series {
        let name: String
        let points: [(x: Double, y: Double)]
    }

    struct Panel {
        let yLabel: String
        let series: [Series]
    }

    let title: String
    let xLabel: String
    /// Whether x takes whole numbers only (steps): no ticks at fractions.
    let integralX: Bool
    let panels: [Panel]

    // Layout, in px: the legend lives in the right margin so that it never covers a line.
    private let width = 960.0, left = 84.0, right = 220.0, top = 56.0, plotHeight = 220.0, below = 72.0
    /// Okabe–Ito's colours (distinguishable with colour blindness), without yellow, which is faint on white.
    private static let colours = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]
    /// After the colours run out, the same colours again with these dashes.
    private static let dashes = ["6 3", "2 2", "8 3 2 3"]
    /// Series with at most this many points get a dot at each (sparse evaluations show where measured).
    private static let dottedUpTo = 40

    func render() -> String {
        let xs = panels.flatMap { $0.series.flatMap { $0.points.map(\.x) } }
        let xScale = NiceScale(min: xs.min() ?? 0, max: xs.max() ?? 1, integral: integralX)
        let height = top + Double(panels.count) * (plotHeight + below)
        var svg = SVGText.header(width: width, height: height, title: title)
        for (i, panel) in panels.enumerated() {
            svg += render(panel, top: top + Double(i) * (plotHeight + below), xScale: xScale)
        }
        return svg + "</svg>\n"
    }

    private func render(_ panel: Panel, top y0: Double, xScale: NiceScale) -> String {
        let x0 = left, x1 = width - right, y1 = y0 + plotHeight
        let ys = panel.series.flatMap { $0.points.map(\.y) }
        let yScale = NiceScale(min: ys.min() ?? 0, max: ys.max() ?? 1)
        func px(_ x: Double) -> Double { xScale.position(x, from: x0, to: x1) }
        func py(_ y: Double) -> Double { yScale.position(y, from: y1, to: y0) }

        var out = "<g class=\"panel\">\n"
        out += "<rect x=\"\(f(x0))\" y=\"\(f(y0))\" width=\"\(f(x1 - x0))\" height=\"\(f(plotHeight))\" fill=\"#fafafa\"/>\n"
        for t in xScale.ticks {
            let x = px(t)
            out += line(x, y0, x, y1, stroke: "#e0e0e0")
            out += line(x, y1, x, y1 + 5, stroke: "#444444")
            out += text(xScale.label(t), x: x, y: y1 + 19, anchor: "middle")
        }
        for t in yScale.ticks {
            let y = py(t)
            out += line(x0, y, x1, y, stroke: "#e0e0e0")
            out += line(x0 - 5, y, x0, y, stroke: "#444444")
            out += text(yScale.label(t), x: x0 - 8, y: y + 4, anchor: "end")
        }
        out += text(xLabel, x: (x0 + x1) / 2, y: y1 + 42, anchor: "middle")
        let yMid = (y0 + y1) / 2
        out += "<text x=\"20\" y=\"\(f(yMid))\" text-anchor=\"middle\" transform=\"rotate(-90 20 \(f(yMid)))\">\(escaped(panel.yLabel))</text>\n"

        let legendStep = min(20, plotHeight / Double(max(panel.series.count, 1)))
        for (k, series) in panel.series.enumerated() {
            let style = Self.style(k)
            let d = series.points.enumerated().map { j, p in "\(j == 0 ? "M" : "L")\(f(px(p.x))) \(f(py(p.y)))" }.joined(separator: " ")
            out += "<path class=\"series\" data-name=\"\(escaped(series.name))\" d=\"\(d)\" fill=\"none\" stroke=\"\(style.colour)\" "
                + "stroke-width=\"1.8\" stroke-linejoin=\"round\"\(style.dash)/>\n"
            if series.points.count <= Self.dottedUpTo {
                for p in series.points {
                    out += "<circle cx=\"\(f(px(p.x)))\" cy=\"\(f(py(p.y)))\" r=\"2.8\" fill=\"\(style.colour)\"/>\n"
                }
            }
            let ly = y0 + 10 + Double(k) * legendStep
            out += "<line x1=\"\(f(x1 + 16))\" y1=\"\(f(ly))\" x2=\"\(f(x1 + 40))\" y2=\"\(f(ly))\" stroke=\"\(style.colour)\" stroke-width=\"2.4\"\(style.dash)/>\n"
            out += text(series.name, x: x1 + 46, y: ly + 4, anchor: "start")
        }
        out += "<rect x=\"\(f(x0))\" y=\"\(f(y0))\" width=\"\(f(x1 - x0))\" height=\"\(f(plotHeight))\" fill=\"none\" stroke=\"#444444\"/>\n"
        return out + "</g>\n"
    }

    private static func style(_ k: Int) -> (colour: String, dash: String) {
        let round = k / colours.count
        let dash = round == 0 ? "" : " stroke-dasharray=\"\(dashes[(round - 1) % dashes.count])\""
        return (colours[k % colours.count], dash)
    }

    private func line(_ xa: Double, _ ya: Double, _ xb: Double, _ yb: Double, stroke: String) -> String {
        "<line x1=\"\(f(xa))\" y1=\"\(f(ya))\" x2=\"\(f(xb))\" y2=\"\(f(yb))\" stroke=\"\(stroke)\"/>\n"
    }

    private func text(_ s: String, x: Double, y: Double, anchor: String) -> String {
        "<text x=\"\(f(x))\" y=\"\(f(y))\" text-anchor=\"\(anchor)\">\(escaped(s))</text>\n"
    }

    private func f(_ v: Double) -> String { SVGText.coordinate(v) }
    private func escaped(_ s: String) -> String { SVGText.escaped(s) }
}
