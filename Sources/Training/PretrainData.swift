import Compute
import Foundation
import JSON

/// The pretraining corpus: each `{"text": ...}` line of a JSONL file tokenised without special
/// tokens, `<|endoftext|>` appended, truncated to `maxSeqLen` tokens.
public struct PretrainData: Sendable {
    /// Token sequences in file order.
    public let sequences: [[Int32]]
    /// The id that ends every sequence and pads batches.
    public let padId: Int32

    public init(sequences: [[Int32]], padId: Int32) {
        self.sequences = sequences
        self.padId = padId
    }

    /// Reads the JSONL file. Blank lines are skipped; any other line must be an object with a string
    /// "text", else the error names file:line.
    public static func load(
        jsonl url: URL, maxSeqLen: Int, eosId: Int32, tokenize: (String) throws -> [Int32]
    ) throws -> PretrainData {
        var sequences: [[Int32]] = []
        for (line, object) in try readJSONLines(url) {
            guard let text = object["text"]?.stringValue else { throw ConfigError("\(url.path):\(line): missing string field \"text\"") }
            let ids: [Int32]
            do { ids = try tokenize(text) } catch { throw ConfigError("\(url.path):\(line): cannot tokenize: \(error)") }
            sequences.append(Array((ids + [eosId]).prefix(maxSeqLen)))
        }
        if sequences.isEmpty { throw ConfigError("\(url.path): no {\"text\": ...} lines") }
        return PretrainData(sequences: sequences, padId: eosId)
    }

    /// One micro batch: rows right-padded to the longest, targets shifted by one with −100 at the
    /// last real position and on every pad; `realTokens` counts the tokens that are not pads.
    public func batch(_ indices: ArraySlice<Int>) -> (inputs: [[Int32]], targets: [[Int32]], realTokens: Int) {
        let length = indices.map { sequences[$0].count }.max() ?? 0
        var inputs: [[Int32]] = [], targets: [[Int32]] = []
        var tokens = 0
        for i in indices {
            let s = sequences[i]
            inputs.append(s + Array(repeating: padId, count: length - s.count))
            var t = Array(s.dropFirst()) + [CrossEntropy.ignoreIndex]
            t += Array(repeating: CrossEntropy.ignoreIndex, count: length - s.count)
            targets.append(t)
            tokens += s.count
        }
        return (inputs, targets, tokens)
    }
}
