/// Grouped bars of fractions (0...1): one group per category, one bar per series, values printed
/// above the bars; a standalone SVG document like `SVGPlot`'s.
struct SVGBarChart {
    struct Series {
        let name: String
        /// One value per category; nil draws no bar.
        let values: [Double?]
    }

    let title: String
    let yLabel: String
    let categories: [String]
    let series: [Series]

    private let left = 72.0, right = 200.0, top = 56.0, plotHeight = 260.0, below = 56.0, barWidth = 18.0, groupGap = 22.0
    private static let colours = ["#999999", "#0072B2", "#009E73", "#D55E00", "#CC79A7", "#E69F00", "#56B4E9"]

    func render() -> String {
        let groupWidth = Double(max(series.count, 1)) * barWidth + groupGap
        let x0 = left, x1 = left + Double(categories.count) * groupWidth, width = x1 + right
        let y0 = top, y1 = top + plotHeight, height = y1 + below
        func py(_ v: Double) -> Double { y1 - min(max(v, 0), 1) * plotHeight }
        let c = SVGText.coordinate, e = SVGText.escaped
        var svg = SVGText.header(width: width, height: height, title: title)
        for tick in stride(from: 0.0, through: 1.0, by: 0.25) {
            svg += "<line x1=\"\(c(x0))\" y1=\"\(c(py(tick)))\" x2=\"\(c(x1))\" y2=\"\(c(py(tick)))\" stroke=\"#e0e0e0\"/>\n"
            svg += "<text x=\"\(c(x0 - 8))\" y=\"\(c(py(tick) + 4))\" text-anchor=\"end\">\(tick)</text>\n"
        }
        let yMid = (y0 + y1) / 2
        svg += "<text x=\"20\" y=\"\(c(yMid))\" text-anchor=\"middle\" transform=\"rotate(-90 20 \(c(yMid)))\">\(e(yLabel))</text>\n"
        for (g, category) in categories.enumerated() {
            let gx = x0 + Double(g) * groupWidth + groupGap / 2
            for (k, s) in series.enumerated() {
                guard g < s.values.count, let v = s.values[g] else { continue }
                let x = gx + Double(k) * barWidth
                svg += "<rect class=\"bar\" data-series=\"\(e(s.name))\" data-category=\"\(e(category))\" x=\"\(c(x))\" y=\"\(c(py(v)))\" "
                    + "width=\"\(c(barWidth - 2))\" height=\"\(c(y1 - py(v)))\" fill=\"\(Self.colours[k % Self.colours.count])\"/>\n"
                svg += "<text x=\"\(c(x + barWidth / 2 - 1))\" y=\"\(c(py(v) - 3))\" text-anchor=\"middle\" font-size=\"8\">\(Int((v * 100).rounded()))</text>\n"
            }
            svg += "<text x=\"\(c(gx + Double(series.count) * barWidth / 2))\" y=\"\(c(y1 + 18))\" text-anchor=\"middle\">\(e(category))</text>\n"
        }
        svg += "<rect x=\"\(c(x0))\" y=\"\(c(y0))\" width=\"\(c(x1 - x0))\" height=\"\(c(plotHeight))\" fill=\"none\" stroke=\"#444444\"/>\n"
        for (k, s) in series.enumerated() {
            let ly = y0 + 10 + Double(k) * 20
            svg += "<rect x=\"\(c(x1 + 16))\" y=\"\(c(ly - 6))\" width=\"12\" height=\"12\" fill=\"\(Self.colours[k % Self.colours.count])\"/>\n"
            svg += "<text x=\"\(c(x1 + 34))\" y=\"\(c(ly + 4))\" text-anchor=\"start\">\(e(s.name))</text>\n"
        }
        return svg + "</svg>\n"
    }
}
