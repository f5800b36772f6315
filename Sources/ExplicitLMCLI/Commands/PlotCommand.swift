import ArgumentParser
import FileIO
import Foundation

/// `explicitlm plot`: a training run's metrics.jsonl as one SVG image.
struct PlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Draw a metrics.jsonl as a standalone SVG: the losses, the evaluations and the learning rate against step.",
        discussion: """
            Panels: every "loss*" key; every "eval_*" key (when any line has one); "lr". Lines need a numeric \
            "step"; null values and missing keys are gaps; other keys are not drawn.
            """)

    @Argument(help: "The metrics.jsonl of a run.") var metrics: String
    @Option(help: "The SVG file to write (replaced whole).") var out: String
    @Option(help: "The title above the panels (default: the metrics file's path).") var title: String?

    func run() throws {
        let svg = try Self.render(metrics: URL(fileURLWithPath: metrics), title: title ?? metrics)
        try AtomicFile.write(Array(svg.utf8), to: URL(fileURLWithPath: out))
    }

    /// The SVG of a metrics.jsonl: a panel each for losses, evaluations and the learning rate.
    static func render(metrics url: URL, title: String) throws -> String {
        let series = try MetricsLog.load(url)
        let panels = [(MetricsLog.Kind.loss, "loss"), (.evaluation, "evaluation"), (.learningRate, "learning rate")].compactMap { kind, label in
            let members = series.filter { MetricsLog.kind(of: $0.name) == kind }
                .map { SVGPlot.Series(name: $0.name, points: $0.points.map { (x: $0.step, y: $0.value) }) }
            return members.isEmpty ? nil : SVGPlot.Panel(yLabel: label, series: members)
        }
        guard !panels.isEmpty else { throw CLIError("\(url.path): no metrics to plot") }
        return SVGPlot(title: title, xLabel: "step", integralX: true, panels: panels).render()
    }
}
