import Compute
import Foundation

/// The memory step after one memory layer ℓ (method.md §4, §5, §11), forward and backward, for a
/// batch of B sequences of T positions in place on the residual stream h [B·T, D]:
/// m = MemoryNorm(h); per token the fine selection picks a candidate j (argmax of λ = score/τ in
/// evaluation, of λ + g in training); u_t = fusion(m_t, entry j); σ_t = cos(m_t, M_j);
/// α_t = gate(σ_t); h_t ← h_t + α_t·u_t at every position.
///
/// In training the straight-through weights w = onehot(argmax(λ+g)) − sg(y) + y equal the one-hot
/// in value, and their gradient reaches only λ, which is an input here (the LM loss does not train
/// the retriever, method §4), so the step mixes with the one-hot and computes u_{t,j} only for the
/// chosen j. The same code runs from the inference seam (one sequence, chunk by chunk: `offset` is
/// the chunk's first position) and the training seam (B padded rows, offset 0).
public final class MemoryStep {
    public let module: MemoryLayer
    /// This step's place among the memory layers (the Gumbel noise table's first index).
    public let index: Int
    public let config: MemoryConfig
    /// The backbone's input embedding table E [V, D] (frozen).
    public let embedding: WeightMatrix

    public init(module: MemoryLayer, index: Int, config: MemoryConfig, embedding: WeightMatrix) {
        self.module = module
        self.index = index
        self.config = config
        self.embedding = embedding
    }

    /// One candidate's tokens read by a group of positions.
    private struct Group {
        let rows: [Int]        // flat positions b·T + t
        let m: Tensor          // their MemoryNorm(h) [n, D]
        let entry: Tensor      // E(x_p) [len, D]
        let fusion: FusionSaved
    }

    private struct Saved {
        let input, m, rstd, u: Tensor
        let active: [Int]          // flat positions with a candidate
        let sigma: [Float], alpha: [Float], means: [[Float]]  // per active position; M_j per active position
        let gate: AlphaGate.Saved
        let answer: [Bool]         // per active position
        let groups: [Group]
    }
    private var saved: Saved?

    /// The entry's token embeddings [len, D] and their mean.
    private func entry(_ c: MemoryCandidate) -> (Tensor, [Float]) {
        let D = embedding.shape[1], n = c.tokens.count
        let x = Tensor(zeros: [n, D])
        c.tokens.withUnsafeBufferPointer { Embedding.forward(x.data, table: embedding, ids: $0.baseAddress!, tokens: n, dim: D) }
        var mean = [Float](repeating: 0, count: D)
        for p in 0..<n { for i in 0..<D { mean[i] += x.data[p * D + i] } }
        for i in 0..<D { mean[i] /= Float(n) }
        return (x, mean)
    }

    /// In place on `hidden` [B·T, D]; reports q̄, the selections and the auxiliary losses to `context`
    /// and keeps what `backward` needs when `saveForBackward`.
    public func forward(_ hidden: Tensor, rows B: Int, length T: Int, offset: Int, context: MemoryBatchContext, saveForBackward: Bool) {
        let D = embedding.shape[1], N = B * T, layer = module.layer
        precondition(hidden.shape == [N, D] && context.samples.count == B,
                     "memory step: hidden \(hidden.shape) for \(B) × \(T) positions, \(context.samples.count) samples")
        // m is computed before h changes, so only backward needs a copy of the input.
        let input = saveForBackward ? hidden.copy() : hidden
        let m = Tensor(zeros: [N, D]), rstd = Tensor(zeros: [N]), u = Tensor(zeros: [N, D])
        module.norm.forward(m.data, input.data, rstd: rstd.data, rows: N)
        let tau = Float(config.gumbelTemperature)
        var active: [Int] = [], sigma: [Float] = [], means: [[Float]] = [], answer: [Bool] = [], groups: [Group] = []
        if context.selected[layer] == nil { context.selected[layer] = Array(repeating: [], count: B) }

        for b in 0..<B {
            let sample = context.samples[b]
            for t in 0..<T where offset + t < sample.promptLength {
                context.addQuery(layer: layer, sample: b, m.data + (b * T + t) * D, dim: D)
            }
            guard let retrieved = context.resolveCandidates(layer: layer, step: index, sample: b) else {
                preconditionFailure("memory step after layer \(layer): the dense retriever needs sample \(b)'s whole prompt "
                                    + "(\(sample.promptLength) positions) in one pass (MemoryBatchContext.prefillChunkSize)")
            }
            let candidates = Array(retrieved.prefix(config.numCandidates))
            guard !candidates.isEmpty else {
                context.selected[layer]![b] += Array(repeating: -1, count: T)
                continue
            }
            let C = candidates.count
            // Entries are built when first read: a decode step reads one of the C candidates, and
            // only training's answer positions need them all (for the diversity term's cosines).
            // Without backward they stay in the context for the next decoded token.
            var entries = [MemoryBatchContext.CachedEntry?](repeating: nil, count: C)
            func key(_ j: Int) -> MemoryBatchContext.EntryKey { .init(layer: layer, sample: b, candidate: j) }
            func cached(_ j: Int) -> MemoryBatchContext.CachedEntry {
                if let e = entries[j] { return e }
                if !saveForBackward, let e = context.entryCache[key(j)], e.row == candidates[j].row {
                    entries[j] = e
                    return e
                }
                let (tokens, mean) = entry(candidates[j])
                let e = MemoryBatchContext.CachedEntry(row: candidates[j].row, tokens: tokens, mean: mean, fusion: nil)
                entries[j] = e
                if !saveForBackward { context.entryCache[key(j)] = e }
                return e
            }
            func entryOf(_ j: Int) -> (Tensor, [Float]) {
                let e = cached(j)
                return (e.tokens, e.mean)
            }
            func fusionEntry(_ j: Int) -> FusionEntry {
                var e = cached(j)
                if let f = e.fusion { return f }
                let f = module.fusion.prepare(entry: e.tokens)
                e.fusion = f
                entries[j] = e
                if !saveForBackward { context.entryCache[key(j)] = e }
                return f
            }
            var cosines: [[Float]]?
            let lambda = candidates.map { $0.score / tau }
            var chosen = [Int](repeating: 0, count: T)
            var byCandidate = [[Int]](repeating: [], count: C)
            for t in 0..<T {
                var noise: [Float]?
                if case .gumbel(let source) = context.selection { noise = source.draw(index: index, row: b, position: offset + t, count: C) }
                let (j, z) = FineSelection.select(lambda: lambda, noise: noise)
                chosen[t] = j
                byCandidate[j].append(b * T + t)
                let isAnswer = offset + t < sample.answerMask.count && sample.answerMask[offset + t]
                if isAnswer && C >= 2 {
                    if cosines == nil { cosines = FineSelection.cosines((0..<C).map { entryOf($0).1 }) }
                    context.diversitySum += FineSelection.diversity(FineSelection.softmax(z), cosines!)
                    context.diversityTokens += 1
                }
            }
            context.selected[layer]![b] += chosen
            for (j, rows) in byCandidate.enumerated() where !rows.isEmpty {
                let mj = Tensor(zeros: [rows.count, D]), uj = Tensor(zeros: [rows.count, D])
                for (i, r) in rows.enumerated() { (mj.data + i * D).update(from: m.data + r * D, count: D) }
                let s = module.fusion.forward(uj.data, m: mj.data, rows: rows.count, entry: fusionEntry(j))
                for (i, r) in rows.enumerated() { (u.data + r * D).update(from: uj.data + i * D, count: D) }
                if saveForBackward { groups.append(Group(rows: rows, m: mj, entry: entryOf(j).0, fusion: s)) }
            }
            for t in 0..<T {
                let r = b * T + t, mean = entryOf(chosen[t]).1
                let s = mean.withUnsafeBufferPointer { FineSelection.cosine(m.data + r * D, $0.baseAddress!, D) }
                active.append(r); sigma.append(s); means.append(mean)
                let isAnswer = offset + t < sample.answerMask.count && sample.answerMask[offset + t]
                answer.append(isAnswer)
                if isAnswer {
                    context.similaritySum -= Double(s)
                    context.answerTokens += 1
                }
            }
        }
        let (alpha, gate) = module.alpha.forward(sigma)
        for (i, r) in active.enumerated() { Vector.axpy(alpha[i], u.data + r * D, hidden.data + r * D, D) }
        saved = saveForBackward
            ? Saved(input: input, m: m, rstd: rstd, u: u, active: active, sigma: sigma, alpha: alpha, means: means,
                    gate: gate, answer: answer, groups: groups)
            : nil
    }

    /// `gradient` [B·T, D]: d(loss)/d(step output) in, d(loss)/d(step input) out; the module's
    /// gradients accumulate. Adds the similarity term's gradient (context.similarityScale).
    public func backward(_ gradient: Tensor, context: MemoryBatchContext) {
        guard let s = saved else { preconditionFailure("memory step backward before a forward that saved") }
        let D = embedding.shape[1], N = s.input.shape[0]
        precondition(gradient.shape == [N, D], "memory step backward: gradient \(gradient.shape), expected [\(N), \(D)]")
        let du = Tensor(zeros: [N, D]), dm = Tensor(zeros: [N, D])
        var dAlpha = [Float](repeating: 0, count: s.active.count)
        for (i, r) in s.active.enumerated() {
            dAlpha[i] = Vector.dot(gradient.data + r * D, s.u.data + r * D, D)
            Vector.axpy(s.alpha[i], gradient.data + r * D, du.data + r * D, D)
        }
        var dSigma = module.alpha.backward(dAlpha: dAlpha, saved: s.gate)
        for i in s.active.indices where s.answer[i] { dSigma[i] -= context.similarityScale }
        for g in s.groups {
            let n = g.rows.count, duj = Tensor(zeros: [n, D]), dmj = Tensor(zeros: [n, D])
            for (i, r) in g.rows.enumerated() { (duj.data + i * D).update(from: du.data + r * D, count: D) }
            module.fusion.backward(dm: dmj.data, du: duj.data, m: g.m.data, rows: n, entry: g.entry, saved: g.fusion)
            for (i, r) in g.rows.enumerated() { Vector.add(dmj.data + i * D, into: dm.data + r * D, D) }
        }
        // σ = m·M / (|m| |M|): dσ/dm = M / (|m| |M|) − σ m / |m|².
        for (i, r) in s.active.enumerated() where dSigma[i] != 0 {
            let mr = s.m.data + r * D
            let mNorm = Vector.sumOfSquares(mr, D).squareRoot()
            let meanNorm = s.means[i].withUnsafeBufferPointer { Vector.sumOfSquares($0.baseAddress!, D).squareRoot() }
            let a = dSigma[i] / (mNorm * meanNorm), c = -dSigma[i] * s.sigma[i] / (mNorm * mNorm)
            s.means[i].withUnsafeBufferPointer { Vector.axpy(a, $0.baseAddress!, dm.data + r * D, D) }
            Vector.axpy(c, mr, dm.data + r * D, D)
        }
        module.norm.backward(dX: gradient.data, dOut: dm.data, x: s.input.data, rstd: s.rstd.data, rows: N)
    }
}
