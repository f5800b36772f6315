import Foundation

/// An axis that covers the data with ticks at a spacing of 1, 2 or 5 × 10ⁿ, the bounds on ticks.
struct NiceScale {
    let lower: Double
    let upper: Double
    let ticks: [Double]
    /// n of the spacing m × 10ⁿ, kept as an integer so that labels get the right number of decimals.
    private let spacingExponent: Int

    /// `integral` keeps the spacing at 1 or more (steps). A single value gets a band around it, so
    /// that a constant series or a single point still has an axis with ticks.
    init(min: Double, max: Double, targetTicks: Int = 6, integral: Bool = false) {
        var lo = min, hi = max
        if lo == hi {
            let pad = lo == 0 ? 1 : abs(lo) * 0.1
            lo -= pad
            hi += pad
        }
        let raw = (hi - lo) / Double(Swift.max(targetTicks - 1, 1))
        var exponent = Int(floor(log10(raw)))
        let fraction = raw / pow(10, Double(exponent))
        // The nearest of 1, 2, 5, 10 × 10ⁿ (Heckbert's nice numbers): about `targetTicks` ticks.
        var mantissa: Double = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10
        if mantissa == 10 { mantissa = 1; exponent += 1 }
        if integral && exponent < 0 { mantissa = 1; exponent = 0 }
        let spacing = mantissa * pow(10, Double(exponent))
        // A bound a rounding error away from a tick is on it (1e-3 / 2e-4 is 5.000000000000001).
        func snapped(_ q: Double) -> Double { abs(q - q.rounded()) < 1e-9 * Swift.max(1, abs(q)) ? q.rounded() : q }
        let first = snapped(lo / spacing).rounded(.down), last = snapped(hi / spacing).rounded(.up)
        lower = first * spacing
        upper = last * spacing
        // Each tick from its own integer index: no accumulated error, and an exact 0.
        ticks = stride(from: first, through: last, by: 1).map { $0 == 0 ? 0 : $0 * spacing }
        spacingExponent = exponent
    }

    /// A tick's text: fixed decimals for everyday magnitudes ("0.5", "1500"), otherwise the
    /// shortest scientific form the spacing needs ("2e-4", "1.5e-3", "3e6").
    func label(_ value: Double) -> String {
        if spacingExponent >= -3 && Swift.max(abs(lower), abs(upper)) < 1e6 {
            return String(format: "%.*f", Int32(Swift.max(0, -spacingExponent)), value)
        }
        if value == 0 { return "0" }
        let digits = Swift.max(0, Int(floor(log10(abs(value)))) - spacingExponent)
        let text = String(format: "%.*e", Int32(digits), value)
        guard let e = text.firstIndex(of: "e"), let exponent = Int(text[text.index(after: e)...]) else { return text }
        var mantissa = String(text[..<e])
        if mantissa.contains(".") {
            while mantissa.hasSuffix("0") { mantissa.removeLast() }
            if mantissa.hasSuffix(".") { mantissa.removeLast() }
        }
        return "\(mantissa)e\(exponent)"
    }

    /// Where `value` falls between `from` (at `lower`) and `to` (at `upper`), in SVG coordinates.
    func position(_ value: Double, from: Double, to: Double) -> Double {
        from + (value - lower) / (upper - lower) * (to - from)
    }
}
