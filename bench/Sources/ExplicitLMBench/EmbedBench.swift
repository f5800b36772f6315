import Encoders
import Foundation

/// Sentence embedding throughput: every line of --texts (one sentence per line) through the BERT
/// encoder in batches of --batch, best of --repeats passes, after one warm-up batch.
func benchEmbed(_ options: [String: String]) throws {
    guard let path = options["model"] else { throw BenchError("--model DIR is required") }
    guard let textsPath = options["texts"] else { throw BenchError("--texts FILE is required") }
    let batch = Int(options["batch"] ?? "32")!
    let repeats = Int(options["repeats"] ?? "3")!
    let texts = try String(contentsOfFile: textsPath, encoding: .utf8).split(separator: "\n").map(String.init)
    var loaded: BertEncoder!
    let loadSeconds = try seconds { loaded = try BertEncoder.load(directory: URL(fileURLWithPath: path)) }
    let encoder = loaded!
    encoder.batchSize = batch
    _ = try encoder.embed(Array(texts.prefix(batch)))  // warm-up
    var best = Double.infinity
    for _ in 0..<repeats {
        best = min(best, try seconds { _ = try encoder.embed(texts) })
    }
    printJSON([
        "impl": "explicitlm", "load_s": loadSeconds, "sentences": texts.count,
        "sentences_per_s": Double(texts.count) / best, "peak_rss_bytes": peakResidentBytes(),
    ])
}
