import JSON

/// The validated header of a safetensors file: what every tensor is and where its bytes lie.
///
/// Layout: 8 bytes little-endian header length N, N bytes of JSON (an object; may be padded with
/// spaces), then the data buffer. Validation follows the reference (Rust `safetensors`): the tensors'
/// byte ranges, sorted, must tile the data buffer exactly — no gaps, no overlap, nothing past the end.
struct SafeTensorsHeader {
    /// The reference refuses headers over 100 MB; so do we, before reading them.
    static let maxHeaderSize = 100_000_000

    let headerSize: Int
    let entries: [String: TensorEntry]
    let metadata: [String: String]

    /// `file` is the whole file's bytes; `name` labels errors.
    init(file: UnsafeRawBufferPointer, name: String) throws(SafeTensorsError) {
        func fail(_ problem: String) -> SafeTensorsError { SafeTensorsError("\(name): \(problem)") }
        guard file.count >= 8 else {
            throw fail("file is \(file.count) bytes, shorter than the 8-byte header length")
        }
        let n = UInt64(littleEndian: file.loadUnaligned(as: UInt64.self))
        guard n <= UInt64(Self.maxHeaderSize) else {
            throw fail("header length \(n) is over the limit of \(Self.maxHeaderSize) bytes")
        }
        guard n <= UInt64(file.count - 8) else {
            throw fail("header length \(n) runs past the end of the file (\(file.count) bytes)")
        }
        headerSize = Int(n)
        let json = UnsafeRawBufferPointer(rebasing: file[8..<(8 + headerSize)])
        guard json.first == UInt8(ascii: "{") else { throw fail("header does not start with '{' (it must be a JSON object)") }
        let root: JSONValue
        do { root = try JSONValue.parse(json, options: .strict) } catch { throw fail("header is not valid JSON: \(error)") }
        guard case .object(let members) = root else { throw fail("header is \(root.typeName), not a JSON object") }

        let dataSize = file.count - 8 - headerSize
        var entries: [String: TensorEntry] = [:]
        var metadata: [String: String] = [:]
        for (key, value) in members {
            if key == "__metadata__" {
                guard case .object(let pairs) = value else { throw fail("__metadata__ is \(value.typeName), not an object of strings") }
                for (k, v) in pairs {
                    guard case .string(let s) = v else { throw fail("__metadata__ key \"\(k)\" is \(v.typeName), not a string") }
                    metadata[k] = s
                }
                continue
            }
            entries[key] = try Self.entry(key, value, dataSize: dataSize, fail: fail)
        }

        // The byte ranges, sorted by start, must tile 0..<dataSize exactly.
        let sorted = entries.values.sorted { ($0.range.lowerBound, $0.range.upperBound, $0.name) < ($1.range.lowerBound, $1.range.upperBound, $1.name) }
        var end = 0
        var previous: String?
        for e in sorted {
            if e.range.lowerBound < end {
                throw fail("tensor \"\(e.name)\" data_offsets [\(e.range.lowerBound), \(e.range.upperBound)] overlap tensor \"\(previous ?? "")\" (which ends at \(end))")
            }
            if e.range.lowerBound > end {
                throw fail("data buffer has a gap: bytes [\(end), \(e.range.lowerBound)) belong to no tensor (next is \"\(e.name)\")")
            }
            end = e.range.upperBound
            previous = e.name
        }
        if end != dataSize {
            throw fail("tensors cover \(end) bytes but the data buffer holds \(dataSize) bytes")
        }
        self.entries = entries
        self.metadata = metadata
    }

    private static func entry(_ key: String, _ value: JSONValue, dataSize: Int,
                              fail: (String) -> SafeTensorsError) throws(SafeTensorsError) -> TensorEntry {
        let what = "tensor \"\(key)\""
        guard case .object(let fields) = value else { throw fail("\(what) is \(value.typeName), not an object") }
        var dtypeValue: JSONValue?, shapeValue: JSONValue?, offsetsValue: JSONValue?
        for (k, v) in fields {
            switch k {
            case "dtype": dtypeValue = v
            case "shape": shapeValue = v
            case "data_offsets": offsetsValue = v
            default: throw fail("\(what) has unknown field \"\(k)\"")
            }
        }
        guard let dtypeValue else { throw fail("\(what) has no dtype") }
        guard let shapeValue else { throw fail("\(what) has no shape") }
        guard let offsetsValue else { throw fail("\(what) has no data_offsets") }

        guard case .string(let dtypeName) = dtypeValue else { throw fail("\(what) dtype is \(dtypeValue.typeName), not a string") }
        guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
            throw fail("\(what) has unknown dtype \"\(dtypeName)\" (known: \(SafeTensorsDType.allCases.map(\.rawValue).joined(separator: ", ")))")
        }

        guard case .array(let dims) = shapeValue else { throw fail("\(what) shape is \(shapeValue.typeName), not an array") }
        var shape: [Int] = []
        var count = 1
        for d in dims {
            guard let n = d.nonNegativeInt else {
                throw fail("\(what) has a bad shape value \(Self.describe(d)) (dimensions are non-negative integers)")
            }
            shape.append(n)
            let (p, overflow) = count.multipliedReportingOverflow(by: n)
            guard !overflow else { throw fail("\(what) shape \(shape) overflows the element count") }
            count = p
        }

        guard case .array(let offs) = offsetsValue, offs.count == 2 else {
            throw fail("\(what) data_offsets is not an array of two integers")
        }
        guard let begin = offs[0].nonNegativeInt, let end = offs[1].nonNegativeInt else {
            throw fail("\(what) data_offsets \(describe(offs[0])), \(describe(offs[1])) are not non-negative integers")
        }
        guard begin <= end else { throw fail("\(what) data_offsets [\(begin), \(end)] end before they begin") }
        guard end <= dataSize else {
            throw fail("\(what) data_offsets [\(begin), \(end)] are out of range: the data buffer holds \(dataSize) bytes")
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow, bytes == end - begin else {
            throw fail("\(what) shape \(shape) of \(dtypeName) needs \(overflow ? "too many" : String(bytes)) bytes but data_offsets [\(begin), \(end)] span \(end - begin)")
        }
        return TensorEntry(name: key, dtype: dtype, shape: shape, count: count, range: begin..<end)
    }

    private static func describe(_ v: JSONValue) -> String {
        switch v {
        case .number(let t): return t
        case .string(let s): return "\"\(s)\""
        default: return v.typeName
        }
    }
}
