/// B sequences of equal (right-padded) length T and their next-token targets.
///
/// `targets[b][t]` is the token that position t should predict, or −100 (`CrossEntropy.ignoreIndex`)
/// for positions that carry no loss (prompts, pads). Pads sit at the end of a row: causal attention
/// keeps real tokens from ever reading them, so no attention mask is needed.
public struct TokenBatch: Sendable {
    public var inputs: [[Int32]]
    public var targets: [[Int32]]

    public init(inputs: [[Int32]], targets: [[Int32]]) {
        self.inputs = inputs
        self.targets = targets
    }

    public var batchSize: Int { inputs.count }
    public var sequenceLength: Int { inputs.first?.count ?? 0 }

    /// Stops with a message naming the row when the shapes disagree or an id is out of range.
    func check(vocabSize: Int) {
        precondition(!inputs.isEmpty && sequenceLength > 0, "TokenBatch: empty batch")
        precondition(targets.count == inputs.count, "TokenBatch: \(inputs.count) input rows but \(targets.count) target rows")
        for (b, (row, target)) in zip(inputs, targets).enumerated() {
            precondition(row.count == sequenceLength && target.count == sequenceLength,
                         "TokenBatch row \(b): length \(row.count) (targets \(target.count)), expected \(sequenceLength)")
            if let bad = row.first(where: { $0 < 0 || Int($0) >= vocabSize }) {
                preconditionFailure("TokenBatch row \(b): input id \(bad) is outside the vocabulary of \(vocabSize)")
            }
            if let bad = target.first(where: { $0 != -100 && ($0 < 0 || Int($0) >= vocabSize) }) {
                preconditionFailure("TokenBatch row \(b): target \(bad) is outside the vocabulary of \(vocabSize)")
            }
        }
    }
}
