import Foundation

/// A torch.save file (PyTorch 1.6 and later, the default zip format) holding one tensor or a dict of
/// tensors, read without running anything.
///
/// The archive is a ZIP of stored entries under one top folder `<name>/`: `data.pkl` (the pickle
/// that describes the object), `data/<key>` (each storage's raw little-endian bytes), and `version`,
/// `byteorder`, `.format_version`, `.storage_alignment` and `.data/…` records. The pickle may build
/// only tensors (`_rebuild_tensor_v2`, `_rebuild_parameter`), their storages, and a dict or
/// OrderedDict of them with string keys; any other object, global or opcode is refused with a message
/// naming it (see `Unpickler`). Every tensor is checked against its storage when the file is opened.
public struct TorchArchive: Sendable {
    /// The file path, or the name given with the bytes: the start of every message.
    public let name: String
    /// The tensors by key. A file that holds one tensor (not a dict) has it under `TorchArchive.loneKey`.
    public let tensors: [String: TorchTensor]
    /// The keys in the order the file lists them.
    public let keys: [String]
    /// Whether the file holds one tensor rather than a dict.
    public let holdsOneTensor: Bool

    /// The key of the tensor in a file that holds one tensor (not a dict).
    public static let loneKey = ""

    /// Opens and checks a file; the file is memory-mapped and the tensors read from the mapping.
    public static func read(contentsOf url: URL) throws -> TorchArchive {
        let path = url.path
        return try TorchArchive(ArchiveBytes(path: path), name: path)
    }

    /// Checks bytes in memory (they are copied); `name` labels errors. The fuzzing entry point:
    /// `verifyingChecksums: false` skips only the entries' CRC-32 comparison, so that mutated bytes
    /// reach the pickle and tensor checks; every bounds and consistency check stays.
    public init(bytes: [UInt8], name: String, verifyingChecksums: Bool = true) throws {
        try self.init(ArchiveBytes(copying: bytes), name: name, checksums: verifyingChecksums)
    }

    /// The tensor named `key`; an error naming the file if there is none.
    public func tensor(_ key: String) throws -> TorchTensor {
        guard let t = tensors[key] else {
            throw TorchFormatError("\(name): no tensor named \"\(key)\" (the file holds \(holdsOneTensor ? "one tensor, not a dict" : "\(keys.count) tensors"))")
        }
        return t
    }

    /// The tensor of a file that holds one tensor; an error if it holds a dict.
    public func tensor() throws -> TorchTensor {
        guard holdsOneTensor, let t = tensors[Self.loneKey] else {
            throw TorchFormatError("\(name): holds a dict of \(keys.count) tensors, not one tensor")
        }
        return t
    }

    init(_ bytes: ArchiveBytes, name: String, checksums: Bool = true) throws(TorchFormatError) {
        func fail(_ problem: String) -> TorchFormatError { TorchFormatError("\(name): \(problem)") }
        self.name = name
        let layout = try ArchiveLayout(ZipDirectory(bytes, file: name, checksums: checksums), bytes: bytes, file: name)
        var unpickler = Unpickler(bytes, range: layout.pickle, label: "\(name): \(layout.prefix)data.pkl")
        let root = try unpickler.run()

        var records: [(String, TensorRecord)] = []
        switch root {
        case .tensor(let r):
            records = [(Self.loneKey, r)]
            holdsOneTensor = true
        case .dict(let i):
            var seen = Set<String>()
            for (key, value) in unpickler.dicts[i].items {
                guard case .string(let k) = key else { throw fail("the dict has a key that is \(key.kind), not a string") }
                guard seen.insert(k).inserted else { throw fail("the dict has the key \"\(k)\" twice") }
                guard case .tensor(let r) = value else { throw fail("the value of \"\(k)\" is \(value.kind), not a tensor") }
                records.append((k, r))
            }
            holdsOneTensor = false
        default:
            throw fail("holds \(root.kind), not a tensor or a dict of tensors")
        }

        // Every storage: its record exists and holds exactly its elements; one key, one storage.
        var storages: [String: StorageReference] = [:]
        var tensors: [String: TorchTensor] = [:]
        for (key, r) in records {
            let s = r.storage
            let what = key == Self.loneKey && holdsOneTensor ? "the tensor" : "tensor \"\(key)\""
            if let other = storages[s.key], other != s {
                throw fail("\(what) names storage \"\(s.key)\" as \(s.count) × \(s.dtype), but another tensor names it as \(other.count) × \(other.dtype)")
            }
            storages[s.key] = s
            guard let data = layout.storages[s.key] else {
                throw fail("\(what) refers to storage \"\(s.key)\", but the archive has no entry \(layout.prefix)data/\(s.key)")
            }
            let (bytesNeeded, overflow) = s.count.multipliedReportingOverflow(by: s.dtype.byteSize)
            guard !overflow, bytesNeeded == data.count else {
                throw fail("storage \"\(s.key)\" holds \(data.count) bytes but its persistent id says \(s.count) × \(s.dtype) (\(overflow ? "more than can be counted" : "\(bytesNeeded)") bytes)")
            }
            tensors[key] = try TorchTensor(r, bytes: bytes, data: data, label: "\(name): \(what)")
        }
        self.tensors = tensors
        self.keys = records.map(\.0)
    }
}

/// Which entry is what: the top folder, the pickle, the storages, and checks of the small records.
struct ArchiveLayout {
    /// The top folder with its slash, e.g. "archive/".
    let prefix: String
    let pickle: Range<Int>
    /// `data/<key>` entries by key.
    let storages: [String: Range<Int>]

    init(_ zip: ZipDirectory, bytes: ArchiveBytes, file: String) throws(TorchFormatError) {
        func fail(_ problem: String) -> TorchFormatError { TorchFormatError("\(file): \(problem)") }
        guard let first = zip.entries.first else { throw fail("the ZIP archive is empty (a torch.save file holds data.pkl)") }
        guard let slash = first.name.firstIndex(of: "/"), slash != first.name.startIndex else {
            throw fail("entry \"\(first.name)\" is not inside a top folder, as every entry of a torch.save file is")
        }
        prefix = String(first.name[...slash])
        var pickle: Range<Int>?
        var storages: [String: Range<Int>] = [:]
        for e in zip.entries {
            guard e.name.hasPrefix(prefix) else {
                throw fail("entries \"\(first.name)\" and \"\(e.name)\" lie in different top folders; a torch.save file has one")
            }
            let rest = e.name.dropFirst(prefix.count)
            func text() -> String { String(decoding: bytes.slice(e.data).prefix(64), as: UTF8.self) }
            switch rest {
            case "data.pkl": pickle = e.data
            case "byteorder":
                guard text() == "little" else {
                    throw fail("\(e.name) says \"\(text())\": only little-endian storages are supported")
                }
            case "version", ".format_version", ".storage_alignment":
                let t = text().trimmingCharacters(in: .whitespacesAndNewlines)
                guard e.data.count <= 64, !t.isEmpty, t.allSatisfy(\.isASCII), Int(t) != nil else {
                    throw fail("\(e.name) holds \"\(t)\", not a number")
                }
            default:
                if rest.hasPrefix("data/"), case let key = rest.dropFirst(5), !key.isEmpty, !key.contains("/") {
                    storages[String(key)] = e.data
                } else if rest.hasPrefix(".data/") {
                    // torch's own bookkeeping (serialization_id, …): nothing to read.
                } else {
                    throw fail("entry \"\(e.name)\" is not part of a torch.save file (TorchScript and other archives are not supported)")
                }
            }
        }
        guard let pickle else { throw fail("has no \(prefix)data.pkl: not a torch.save archive") }
        self.pickle = pickle
        self.storages = storages
    }
}
