import Compute
import Foundation
import JSON
import Qwen3
import Tokenizers

/// Maps texts to L2-normalised vectors of `dimension` floats: the embedder of method.md §3, used
/// for memory keys, router labels and the `encoder` retriever.
public protocol SentenceEmbedder: AnyObject {
    var dimension: Int { get }
    /// One L2-normalised vector per text, in order.
    func embed(_ texts: [String]) throws -> [[Float]]
}

/// The embedder of a model directory (`model.embedder_path`): a BERT-family sentence encoder when
/// config.json says `bert`, the Qwen3 backbone embedder when it says `qwen3`. The backbone turns
/// text into ids with `textEncoder` when given, else with the directory's tokenizer.json.
public func makeEmbedder(path: URL, textEncoder: ((String) -> [Int32])? = nil) throws -> SentenceEmbedder {
    let configURL = path.appendingPathComponent("config.json")
    let modelType = try decodeJSONFile(ModelTypeFile.self, at: configURL).modelType ?? "(none)"
    switch modelType {
    case "bert":
        return try BertEncoder.load(directory: path)
    case "qwen3":
        let model = try Qwen3Model.load(directory: path)
        if let textEncoder { return BackboneEmbedder(model: model, textEncoder: textEncoder) }
        let tokenizer = try BPETokenizer(url: path.appendingPathComponent("tokenizer.json"))
        return BackboneEmbedder(model: model, textEncoder: { tokenizer.encode($0) })
    default:
        throw EncoderError("\(configURL.path): model_type '\(modelType)' is not an embedder (expected 'bert' or 'qwen3')")
    }
}

/// The one key of config.json that chooses the embedder.
private struct ModelTypeFile: Decodable {
    var modelType: String?
    enum CodingKeys: String, CodingKey { case modelType = "model_type" }
}

/// Mean, first-token or element-wise max of the rows of one sequence.
func pool(_ hidden: Tensor, rows: Range<Int>, mode: Pooling) -> [Float] {
    let D = hidden.shape[1]
    var v = [Float](repeating: 0, count: D)
    if rows.isEmpty { return v }
    v.withUnsafeMutableBufferPointer { out in
        let o = out.baseAddress!
        switch mode {
        case .cls:
            o.update(from: hidden.data + rows.lowerBound * D, count: D)
        case .mean:
            for r in rows { Vector.add(hidden.data + r * D, into: o, D) }
            let inv = 1 / Float(rows.count)
            for i in 0..<D { o[i] *= inv }
        case .max:
            o.update(from: hidden.data + rows.lowerBound * D, count: D)
            for r in rows.dropFirst() {
                let x = hidden.data + r * D
                for i in 0..<D { o[i] = max(o[i], x[i]) }
            }
        }
    }
    return v
}

/// Scales `v` to unit L2 norm, as torch.nn.functional.normalize (norm clamped at 1e-12).
func l2Normalize(_ v: inout [Float]) {
    var sq: Float = 0
    for x in v { sq += x * x }
    let inv = 1 / max(sq.squareRoot(), 1e-12)
    for i in v.indices { v[i] *= inv }
}
