import Compute
import Foundation
import JSON

/// The weights of a Hugging Face model directory: `model.safetensors`, or the shards that
/// `model.safetensors.index.json` lists (the single file wins when both exist, as in transformers).
/// Every shard is opened (and validated) once, up front.
public final class SafeTensorsCheckpoint: @unchecked Sendable {
    public static let singleFileName = "model.safetensors"
    public static let indexFileName = "model.safetensors.index.json"

    public let directory: URL
    /// The shard files, sorted by file name.
    public let files: [SafeTensorsFile]
    /// Tensor names over all shards, sorted.
    public let names: [String]
    private let location: [String: SafeTensorsFile]

    public init(directory: URL) throws {
        self.directory = directory
        let fm = FileManager.default
        let index = directory.appendingPathComponent(Self.indexFileName)
        let single = directory.appendingPathComponent(Self.singleFileName)
        var location: [String: SafeTensorsFile] = [:]
        // Like transformers: a single model.safetensors wins over an index beside it.
        if fm.fileExists(atPath: single.path) {
            let file = try SafeTensorsFile(url: single)
            for name in file.names { location[name] = file }
            files = [file]
        } else if fm.fileExists(atPath: index.path) {
            let weightMap = try Self.readIndex(index)
            var shards: [String: SafeTensorsFile] = [:]
            for (tensor, shard) in weightMap {
                if shards[shard] == nil {
                    let url = directory.appendingPathComponent(shard)
                    guard fm.fileExists(atPath: url.path) else {
                        throw SafeTensorsError("\(index.path): weight_map[\"\(tensor)\"]: shard file \"\(shard)\" does not exist in \(directory.path)")
                    }
                    shards[shard] = try SafeTensorsFile(url: url)
                }
                let file = shards[shard]!
                guard file.entries[tensor] != nil else {
                    throw SafeTensorsError("\(index.path): weight_map[\"\(tensor)\"]: tensor is not in its shard \"\(shard)\"")
                }
                location[tensor] = file
            }
            // A tensor in a shard that the index does not list means the two disagree.
            for (shard, file) in shards.sorted(by: { $0.key < $1.key }) {
                for name in file.names where weightMap[name] == nil {
                    throw SafeTensorsError("\(index.path): shard \"\(shard)\" holds tensor \"\(name)\" that weight_map does not list")
                }
                for name in file.names where weightMap[name] != shard {
                    throw SafeTensorsError("\(index.path): tensor \"\(name)\" is in shard \"\(shard)\" but weight_map says \"\(weightMap[name]!)\"")
                }
            }
            files = shards.sorted { $0.key < $1.key }.map(\.value)
        } else {
            throw SafeTensorsError("\(directory.path): no \(Self.singleFileName) or \(Self.indexFileName)")
        }
        self.location = location
        names = location.keys.sorted()
    }

    /// Reads the index's `weight_map` (tensor name → shard file name), strictly.
    static func readIndex(_ url: URL) throws -> [String: String] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw SafeTensorsError("\(url.path): cannot read: \(error.localizedDescription)")
        }
        let root: JSONValue
        do { root = try data.withUnsafeBytes { try JSONValue.parse($0, options: .strict) } } catch {
            throw SafeTensorsError("\(url.path): not valid JSON: \(error)")
        }
        guard case .object = root else { throw SafeTensorsError("\(url.path): is \(root.typeName), not a JSON object") }
        guard let mapValue = root["weight_map"] else {
            throw SafeTensorsError("\(url.path): missing key \"weight_map\"")
        }
        guard case .object(let pairs) = mapValue else {
            throw SafeTensorsError("\(url.path): \"weight_map\" is \(mapValue.typeName), not an object")
        }
        var map: [String: String] = [:]
        for (tensor, v) in pairs {
            guard case .string(let shard) = v else {
                throw SafeTensorsError("\(url.path): weight_map[\"\(tensor)\"] is \(v.typeName), not a file name")
            }
            // Shards live in the model directory; a path elsewhere is refused, not followed.
            guard !shard.isEmpty, !shard.contains("/"), shard != ".", shard != ".." else {
                throw SafeTensorsError("\(url.path): weight_map[\"\(tensor)\"] = \"\(shard)\" is not a file name in the model directory")
            }
            map[tensor] = shard
        }
        return map
    }

    public func entry(_ name: String) -> TensorEntry? { location[name]?.entries[name] }

    /// The file that holds tensor `name`.
    public func file(for name: String) -> SafeTensorsFile? { location[name] }

    public func tensor(_ name: String) throws -> Tensor {
        guard let file = location[name] else { throw SafeTensorsError("\(directory.path): no tensor named \"\(name)\"") }
        return try file.tensor(name)
    }

    public func weightMatrix(_ name: String, keepBFloat16: Bool) throws -> WeightMatrix {
        guard let file = location[name] else { throw SafeTensorsError("\(directory.path): no tensor named \"\(name)\"") }
        return try file.weightMatrix(name, keepBFloat16: keepBFloat16)
    }

    /// The stored element types over all tensors.
    public var dtypes: Set<SafeTensorsDType> { Set(files.flatMap { $0.entries.values.map(\.dtype) }) }
}
