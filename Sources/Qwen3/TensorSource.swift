import Compute

/// Where named weight tensors come from: a checkpoint on disk, or tensors built in memory.
public protocol TensorSource {
    /// Every tensor name the source holds.
    var names: [String] { get }
    /// The shape of `name`, or nil when absent.
    func shape(of name: String) -> [Int]?
    /// The tensor as float32.
    func tensor(_ name: String) throws -> Tensor
    /// A weight matrix: BF16 kept as stored when `keepBFloat16` and the source can, else float32.
    func weightMatrix(_ name: String, keepBFloat16: Bool) throws -> WeightMatrix
    /// Says where the tensors come from, for error messages.
    var sourceDescription: String { get }
}

extension TensorSource {
    public func weightMatrix(_ name: String, keepBFloat16: Bool) throws -> WeightMatrix { WeightMatrix(try tensor(name)) }
}

/// Tensors held in memory (tests, freshly initialised models).
public struct InMemoryTensors: TensorSource {
    public var tensors: [String: Tensor]
    public init(_ tensors: [String: Tensor]) { self.tensors = tensors }
    public var names: [String] { tensors.keys.sorted() }
    public func shape(of name: String) -> [Int]? { tensors[name]?.shape }
    public func tensor(_ name: String) throws -> Tensor {
        guard let t = tensors[name] else { throw Qwen3WeightsError("tensor '\(name)' is missing from memory") }
        return t
    }
    public var sourceDescription: String { "in-memory tensors" }
}
