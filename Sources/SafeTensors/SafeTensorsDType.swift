/// The element types of the safetensors format that this module knows, by their header names.
public enum SafeTensorsDType: String, Sendable, CaseIterable {
    case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"
    case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8", u8 = "U8", bool = "BOOL"

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .f64, .i64: return 8
        case .f32, .i32: return 4
        case .f16, .bf16, .i16: return 2
        case .i8, .u8, .bool: return 1
        }
    }

    /// Rank in the reference writer's layout order: it stores larger types first (then by name), so
    /// every tensor stays aligned to its element size. Mirrors the order of Rust `safetensors::Dtype`.
    var layoutRank: Int {
        switch self {
        case .bool: return 0
        case .u8: return 1
        case .i8: return 2
        case .i16: return 3
        case .f16: return 4
        case .bf16: return 5
        case .i32: return 6
        case .f32: return 7
        case .f64: return 8
        case .i64: return 9
        }
    }
}

/// A problem with a safetensors file, index or write request. The description names the file (or
/// tensor) and the problem.
public struct SafeTensorsError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// One tensor as the header describes it. `range` is the byte range inside the data buffer (the bytes
/// after the header).
public struct TensorEntry: Sendable, Equatable {
    public let name: String
    public let dtype: SafeTensorsDType
    public let shape: [Int]
    /// Element count (product of the shape; 1 for a scalar).
    public let count: Int
    /// Byte range inside the data buffer.
    public let range: Range<Int>

    public var byteCount: Int { range.count }
}
