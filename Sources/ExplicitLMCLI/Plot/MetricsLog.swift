import Foundation
import JSON

/// One metric over training steps: its key in metrics.jsonl and its (step, value) points in step order.
struct MetricSeries {
    let name: String
    var points: [(step: Double, value: Double)]
}

/// The plottable series of a metrics.jsonl (training lines with "loss*" and "lr", evaluation lines
/// with "eval_*"), each under "step". Null values and absent keys leave gaps; other keys are ignored.
/// A line without a numeric step, or a plotted key holding anything but a number or null, is an
/// error naming file:line, the key and the value.
enum MetricsLog {
    /// Which series a key is, or nil when it is not plotted.
    enum Kind { case loss, evaluation, learningRate }

    static func kind(of key: String) -> Kind? {
        if key.hasPrefix("loss") { return .loss }
        if key.hasPrefix("eval_") { return .evaluation }
        return key == "lr" ? .learningRate : nil
    }

    /// The series in order of first appearance, each sorted by step (a resumed run may repeat steps).
    static func load(_ url: URL) throws -> [MetricSeries] {
        var series: [MetricSeries] = []
        var index: [String: Int] = [:]
        for (line, object) in try readJSONLines(url) {
            let place = "\(url.path):\(line)"
            guard let stepValue = object["step"] else { throw CLIError("\(place): key 'step' is missing") }
            let step = try number(stepValue, key: "step", at: place)
            for (key, value) in object.objectValue! where key != "step" && kind(of: key) != nil && !value.isNull {
                let y = try number(value, key: key, at: place)
                if index[key] == nil {
                    index[key] = series.count
                    series.append(MetricSeries(name: key, points: []))
                }
                series[index[key]!].points.append((step, y))
            }
        }
        for i in series.indices { series[i].points.sort { $0.step < $1.step } }
        return series
    }

    /// Values beyond ±1e100 are refused: no training metric is that large, and the axis arithmetic
    /// (spans, tick counts) must stay finite.
    private static func number(_ value: JSONValue, key: String, at place: String) throws -> Double {
        guard case .number(let literal) = value, let x = Double(literal) else {
            throw CLIError("\(place): key '\(key)': \(value.excerpt()) is not a number")
        }
        guard x.isFinite, abs(x) <= 1e100 else { throw CLIError("\(place): key '\(key)': \(literal) is outside ±1e100") }
        return x
    }
}
