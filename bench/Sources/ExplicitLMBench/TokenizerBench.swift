import Foundation
import Tokenizers

/// Encodes every line of a corpus on its own (the work bench/tokenizer_bench.py gives Hugging Face).
func benchTokenizer(_ options: [String: String]) throws {
    guard let path = options["tokenizer"], let corpusPath = options["corpus"] else {
        throw BenchError("--tokenizer PATH and --corpus FILE are required")
    }
    var loaded: BPETokenizer!
    let loadSeconds = try seconds { loaded = try BPETokenizer(url: URL(fileURLWithPath: path)) }
    let tok = loaded!
    guard let data = FileManager.default.contents(atPath: corpusPath) else { throw BenchError("cannot read \(corpusPath)") }
    // Split on the byte "\n" as Python's str.split does (a Character split keeps "\r\n" together).
    let lines = data.split(separator: 0x0A, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    var encoded: [[Int32]] = []
    encoded.reserveCapacity(lines.count)
    let encodeSeconds = seconds { for line in lines { encoded.append(tok.encode(line)) } }
    // A checksum of every id in order, computed the same way on the Python side.
    var checksum: UInt64 = 0
    var tokens = 0
    for ids in encoded {
        tokens += ids.count
        for id in ids { checksum = checksum &* 1_000_003 &+ UInt64(id) }
    }
    printJSON([
        "impl": "explicitlm", "load_s": loadSeconds, "lines": lines.count, "bytes": data.count, "tokens": tokens,
        "tokens_per_s": Double(tokens) / encodeSeconds, "checksum": String(checksum),
    ])
}
