/// A weight matrix [rows, columns] (a linear map's [out, in], an embedding table's [V, D]) in the
/// element type it was stored in: float32, or bfloat16 kept as stored — a view of the memory-mapped
/// checkpoint, widened to float32 inside the kernels, so a BF16 model takes half the memory of its
/// float32 copy and decoding reads half the bytes.
///
/// Training that changes a matrix needs it in float32 (`data`); a frozen matrix may be either.
public final class WeightMatrix: @unchecked Sendable {
    public enum Element: String, Sendable { case float32, bfloat16 }

    public let shape: [Int]
    public let element: Element
    /// The float32 values, nil for a bfloat16 matrix.
    public let float32: Tensor?
    /// The bfloat16 bit patterns, nil for a float32 matrix.
    public let bfloat16: UnsafePointer<UInt16>?
    /// Keeps borrowed bfloat16 memory alive.
    private let owner: AnyObject?

    public init(_ tensor: Tensor) {
        shape = tensor.shape
        element = .float32
        float32 = tensor
        bfloat16 = nil
        owner = nil
    }

    /// A view of bfloat16 values that `owner` keeps alive (no copy).
    public init(bfloat16 pointer: UnsafePointer<UInt16>, shape: [Int], owner: AnyObject) {
        self.shape = shape
        element = .bfloat16
        float32 = nil
        bfloat16 = pointer
        self.owner = owner
    }

    public var rows: Int { shape[0] }
    public var columns: Int { shape.count > 1 ? shape[1...].reduce(1, *) : 1 }
    public var count: Int { shape.reduce(1, *) }

    /// The float32 values of a float32 matrix, which training may change in place. Asking a
    /// bfloat16 matrix for them is a programming error: trainable backbones load as float32.
    public var data: UnsafeMutablePointer<Float> {
        guard let float32 else { preconditionFailure("a bfloat16 weight matrix has no float32 buffer; load the model as float32 to train it") }
        return float32.data
    }

    /// The values as a float32 tensor: the matrix itself when it is float32, else a widened copy.
    public func widened() -> Tensor {
        if let float32 { return float32 }
        let t = Tensor(zeros: shape)
        Self.widen(bfloat16!, into: t.data, count: count)
        return t
    }

    /// The values as float32 (for tests and output, not for hot paths).
    public var array: [Float] { widened().array }

    /// Row `row` as float32 into `out` (`columns` values).
    @inline(__always)
    public func copyRow(_ row: Int, into out: UnsafeMutablePointer<Float>) {
        let n = columns
        if let float32 {
            out.update(from: float32.data + row * n, count: n)
        } else {
            Self.widen(bfloat16! + row * n, into: out, count: n)
        }
    }

    /// bfloat16 → float32 is exact: the 16 bits are the float's upper half.
    @inline(__always)
    static func widen(_ source: UnsafePointer<UInt16>, into out: UnsafeMutablePointer<Float>, count: Int) {
        let bits = UnsafeMutableRawPointer(out).assumingMemoryBound(to: UInt32.self)
        for i in 0..<count { bits[i] = UInt32(source[i]) << 16 }
    }
}
