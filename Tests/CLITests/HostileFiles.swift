import Foundation
import SafeTensors
import TestSupport

/// Small hand-made inputs for the hostile-input tests: the tiny model of TestSupport (a byte-level
/// tokenizer, config.json values replaced), a tampered training checkpoint.
enum HostileFiles {
    static func tokenizer(in work: URL, name: String, addedId: String = "257") throws -> URL {
        try TinyModel.tokenizer(in: work, name: name, addedId: addedId)
    }

    static func model(in work: URL, name: String, config: [String: String] = [:]) throws -> URL {
        try TinyModel.directory(in: work, name: name, config: config)
    }

    /// Writes `original` (a training checkpoint) back with `data.order` and, when given, the
    /// metadata's "index" replaced.
    static func rewriteTrainingCheckpoint(_ original: Data, order: [Int], index: String?, to url: URL) throws {
        let source = url.deletingLastPathComponent().appendingPathComponent("original.safetensors")
        try original.write(to: source)
        defer { try? FileManager.default.removeItem(at: source) }
        let file = try SafeTensorsFile(url: source)
        var writer = SafeTensorsWriter()
        for name in file.names where name != "data.order" { writer.add(name, try file.tensor(name)) }
        writer.add("data.order", int64s: order.map(Int64.init), shape: [order.count])
        var metadata = file.metadata
        if let index { metadata["index"] = index }
        try writer.write(to: url, metadata: metadata)
    }
}
