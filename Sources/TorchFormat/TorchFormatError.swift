/// A problem with a torch.save file. The description names the file and what is wrong with it.
public struct TorchFormatError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The element types of the storages this reader accepts, by torch's legacy storage class names
/// (`torch.FloatStorage`, …): torch.save still names a tensor's storage that way.
public enum TorchDType: String, Sendable, CaseIterable {
    case float32, float64, float16, bfloat16, int64, int32, int16, int8, uint8, bool

    /// The global that names this storage type in a pickle (module `torch`).
    public var storageClass: String {
        switch self {
        case .float32: return "FloatStorage"
        case .float64: return "DoubleStorage"
        case .float16: return "HalfStorage"
        case .bfloat16: return "BFloat16Storage"
        case .int64: return "LongStorage"
        case .int32: return "IntStorage"
        case .int16: return "ShortStorage"
        case .int8: return "CharStorage"
        case .uint8: return "ByteStorage"
        case .bool: return "BoolStorage"
        }
    }

    init?(storageClass: String) {
        guard let t = Self.allCases.first(where: { $0.storageClass == storageClass }) else { return nil }
        self = t
    }

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .float64, .int64: return 8
        case .float32, .int32: return 4
        case .float16, .bfloat16, .int16: return 2
        case .int8, .uint8, .bool: return 1
        }
    }

    public var isFloatingPoint: Bool {
        switch self {
        case .float32, .float64, .float16, .bfloat16: return true
        default: return false
        }
    }
}
