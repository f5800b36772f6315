import Compute
import Foundation
import Qwen3

/// What a backward pass differentiates.
public enum BackpropMode {
    /// Gradients of every weight, accumulated into the given buffers.
    case full(Qwen3Gradients)
    /// The model is frozen: gradients flow through the layers above `afterLayer` to the activations
    /// only (no weight-gradient GEMMs) and stop at `module`, which sits after decoder layer
    /// `afterLayer` and accumulates its own parameter gradients.
    case frozen(module: TrainableModule, afterLayer: Int)
    /// Frozen model with modules after several decoder layers (at most one per layer, as the memory
    /// step after each memory layer); gradients flow down to the lowest one.
    case frozenModules([(afterLayer: Int, module: TrainableModule)])

    /// The modules by the layer they follow; empty in full mode.
    var modules: [Int: TrainableModule] {
        switch self {
        case .full: return [:]
        case .frozen(let module, let layer): return [layer: module]
        case .frozenModules(let list):
            var byLayer: [Int: TrainableModule] = [:]
            for (layer, module) in list {
                precondition(byLayer[layer] == nil, "frozen mode: two modules after decoder layer \(layer)")
                byLayer[layer] = module
            }
            return byLayer
        }
    }
}

/// Training forward and backward of Qwen3 over a batch of equal-length sequences, llm.c style:
/// the forward saves each layer's activations, the backward walks the layers top-down with explicit
/// kernels, accumulating into gradient buffers.
///
/// With `recompute` (activation checkpointing) the forward keeps only each layer's input [B·T, D],
/// and the backward runs each layer's forward again from it, into one set of buffers, just before
/// that layer's backward: one more forward pass for a fraction of the memory (at the Qwen3-4B shape
/// about 10 KiB a token a layer instead of 270 KiB plus the attention weights [B, H, T, T]). The
/// gradients are the same bits either way.
///
/// Loss normalisation is the caller's job: `step` differentiates `gradientScale × Σ token losses`
/// of its batch. For the mean over an optimizer step of several micro batches, pass
/// `gradientScale = 1 / (loss tokens of the whole step)` to every micro batch (or scale afterwards).
public final class Qwen3Backprop {
    public let model: Qwen3Model
    /// After a frozen step: d(loss)/d(hidden state after decoder layer `afterLayer`, before the
    /// (lowest) module), [B·T, D]. Nil after a full step.
    public private(set) var hiddenGradient: Tensor?

    /// Rows of the LM head computed at once: bounds the [rows, vocab] logits buffer.
    public var headChunk = 256
    /// Keep only the layers' inputs and recompute their activations in the backward (see the type).
    public var recompute = false
    /// Keep each layer's attention weights [B, Hq, T, T] for the backward (true), or only each row's
    /// softmax maximum and 1 / Σ exp, recomputing the weights one head at a time in the backward
    /// (false: memory linear in T, one more QKᵀ per head, the same bits). Nil: as
    /// `keepsAttentionWeights` decides.
    public var keepAttentionWeights: Bool?

    /// Per layer, the saved activations (nil for layers that need none: below a frozen module, or
    /// every layer when recomputing).
    private var saved: [LayerActivations?] = []
    /// When recomputing, per layer the input [B·T, D] the backward replays it from (nil below a frozen module).
    private var inputs: [Tensor?] = []
    /// Buffers for the layers that save nothing, and the replayed layer when recomputing.
    private var spare: LayerActivations?
    private var scratch: BackwardScratch?
    /// The LM head's buffers ([rows, vocab] logits is the largest), kept between steps.
    private var headBuffers: HeadBuffers?
    private var shape: (batch: Int, length: Int, firstSaved: Int, recompute: Bool, keepWeights: Bool) = (0, 0, 0, false, false)

    public init(model: Qwen3Model) {
        self.model = model
    }

    /// The bytes the forward keeps for every layer at batch × length without `recompute`.
    public static func savedActivationBytes(config: Qwen3Config, batch: Int, length: Int) -> Int {
        let keep = keepsAttentionWeights(config: config, batch: batch, length: length)
        return config.numHiddenLayers * LayerActivations.bytes(config: config, batch: batch, length: length, keepsAttentionWeights: keep)
    }

    /// Whether to keep the attention weights by default: while they take no more than the rest of the
    /// layer's activations (up to T ≈ 1,400 tokens at the Qwen3-0.6B shape, ≈ 1,700 at 4B); longer
    /// sequences recompute them, so memory grows linearly in T.
    public static func keepsAttentionWeights(config: Qwen3Config, batch: Int, length: Int) -> Bool {
        LayerActivations.attentionWeightFloats(config: config, batch: batch, length: length, kept: true)
            <= batch * length * LayerActivations.floatsPerToken(config: config)
    }

    /// Whether a step at batch × length should recompute: when keeping the activations would take
    /// more than a quarter of the machine's memory (a Qwen3-4B step at 1,024 tokens would keep ~10 GiB).
    public static func shouldRecompute(config: Qwen3Config, batch: Int, length: Int) -> Bool {
        savedActivationBytes(config: config, batch: batch, length: length) > Int(ProcessInfo.processInfo.physicalMemory / 4)
    }

    /// Forward + backward of Σ token cross-entropy over the batch; accumulates into `gradients` (full
    /// mode) or the trainable module's gradients (frozen mode). Returns the loss sum (unscaled) and
    /// the number of loss tokens.
    @discardableResult
    public func step(_ batch: TokenBatch, mode: BackpropMode, gradientScale: Float = 1) -> (lossSum: Double, tokens: Int) {
        let c = model.config
        batch.check(vocabSize: c.vocabSize)
        let B = batch.batchSize, T = batch.sequenceLength, N = B * T, D = c.hiddenSize, L = c.numHiddenLayers
        let (cos, sin) = model.rotary.tables(positions: 0..<T)
        let ids = batch.inputs.flatMap { $0 }

        // Forward. Frozen mode keeps no activations for the layers below the lowest module.
        let modules = mode.modules
        var gradients: Qwen3Gradients?
        if case .full(let g) = mode { gradients = g }
        if gradients == nil {
            precondition(!modules.isEmpty, "frozen mode needs at least one module")
            for l in modules.keys { precondition(l >= 0 && l < L, "frozen mode: afterLayer \(l) is not a layer of 0..<\(L)") }
        }
        let lowest = modules.keys.min()
        let firstSaved = lowest.map { $0 + 1 } ?? 0
        prepare(batch: B, length: T, firstSaved: firstSaved)
        let hidden = Tensor(zeros: [N, D])
        ids.withUnsafeBufferPointer {
            Embedding.forward(hidden.data, table: model.weights.embedTokens, ids: $0.baseAddress!, tokens: N, dim: D)
        }
        for l in 0..<L {
            inputs[l]?.data.update(from: hidden.data, count: N * D)
            layerForward(l, hidden, saved[l] ?? spare!, batch: B, length: T, cos: cos, sin: sin)
            modules[l]?.forward(hidden, batch: batch)
        }

        // Final norm, LM head and loss on the rows that have a target; d(hidden) on those rows.
        let dHidden = Tensor(zeros: [N, D])
        let targets = batch.targets.flatMap { $0 }
        let loss = headForwardBackward(hidden, targets: targets, dHidden: dHidden, gradients: gradients, scale: gradientScale)
        hiddenGradient = nil
        guard loss.tokens > 0 else { return loss }

        // Backward, top-down; each module sits between its layer and the one above.
        let layerGradients = gradients?.layers
        modules[L - 1]?.backward(dHidden, batch: batch)
        for l in stride(from: L - 1, through: firstSaved, by: -1) {
            let a = saved[l] ?? replay(l, batch: B, length: T, cos: cos, sin: sin)
            layerBackward(l, dHidden, a, gradients: layerGradients?[l], batch: B, length: T, cos: cos, sin: sin)
            modules[l - 1]?.backward(dHidden, batch: batch)
        }
        if lowest != nil {
            hiddenGradient = dHidden
        } else if let g = gradients {
            ids.withUnsafeBufferPointer {
                Embedding.backward(dTable: g.embedTokens.data, dOut: dHidden.data, ids: $0.baseAddress!, tokens: N, dim: D)
            }
        }
        return loss
    }

    /// Allocates the activation buffers once per batch shape and mode; later steps reuse them.
    private func prepare(batch B: Int, length T: Int, firstSaved: Int) {
        let c = model.config, layers = 0..<c.numHiddenLayers
        let keep = keepAttentionWeights ?? Self.keepsAttentionWeights(config: c, batch: B, length: T)
        guard shape != (B, T, firstSaved, recompute, keep) else { return }
        saved = []  // free the old buffers first
        inputs = []
        spare = nil
        scratch = nil
        func activations() -> LayerActivations { LayerActivations(config: c, batch: B, length: T, keepsAttentionWeights: keep) }
        saved = layers.map { l in l >= firstSaved && !recompute ? activations() : nil }
        inputs = layers.map { l in l >= firstSaved && recompute ? Tensor(zeros: [B * T, c.hiddenSize]) : nil }
        spare = firstSaved > 0 || recompute ? activations() : nil
        scratch = BackwardScratch(config: c, batch: B, length: T, keepsAttentionWeights: keep)
        shape = (B, T, firstSaved, recompute, keep)
    }

    /// Layer `l`'s activations, recomputed from its saved input into the spare buffers.
    private func replay(_ l: Int, batch B: Int, length T: Int, cos: Tensor, sin: Tensor) -> LayerActivations {
        let a = spare!, h = scratch!.replay
        h.data.update(from: inputs[l]!.data, count: h.count)
        layerForward(l, h, a, batch: B, length: T, cos: cos, sin: sin)
        return a
    }

    /// One decoder layer in place on `h` [B·T, D], saving into `a`.
    private func layerForward(_ l: Int, _ h: Tensor, _ a: LayerActivations, batch B: Int, length T: Int, cos: Tensor, sin: Tensor) {
        let c = model.config, w = model.weights.layers[l]
        let N = B * T, D = c.hiddenSize, d = c.headDim, I = c.intermediateSize
        let Hq = c.numAttentionHeads, Hkv = c.numKeyValueHeads, eps = Float(c.rmsNormEps)
        let rotary = model.rotary

        a.input.data.update(from: h.data, count: N * D)
        RMSNorm.forward(a.normed.data, h.data, weight: w.inputNorm.data, rstd: a.inputRstd.data, rows: N, dim: D, eps: eps)
        Linear.forward(a.qRaw.data, a.normed.data, weight: w.qProj, bias: w.qBias?.data, rows: N, inFeatures: D, outFeatures: Hq * d)
        Linear.forward(a.kRaw.data, a.normed.data, weight: w.kProj, bias: w.kBias?.data, rows: N, inFeatures: D, outFeatures: Hkv * d)
        Linear.forward(a.v.data, a.normed.data, weight: w.vProj, bias: w.vBias?.data, rows: N, inFeatures: D, outFeatures: Hkv * d)
        RMSNorm.forward(a.q.data, a.qRaw.data, weight: w.qNorm.data, rstd: a.qRstd.data, rows: N * Hq, dim: d, eps: eps)
        RMSNorm.forward(a.k.data, a.kRaw.data, weight: w.kNorm.data, rstd: a.kRstd.data, rows: N * Hkv, dim: d, eps: eps)
        for b in 0..<B {
            let q = a.q.data + b * T * Hq * d, k = a.k.data + b * T * Hkv * d
            rotary.apply(q, cos: cos, sin: sin, tokens: T, heads: Hq)
            rotary.apply(k, cos: cos, sin: sin, tokens: T, heads: Hkv)
            Attention.forward(a.attention.data + b * T * Hq * d, q: q, k: k, v: a.v.data + b * T * Hkv * d,
                              probs: a.probs.map { $0.data + b * Hq * T * T }, softmaxStats: a.softmaxStats.map { $0.data + b * Hq * T * 2 },
                              scratch: scratch!.scores.data,
                              queries: T, keys: T, heads: Hq, kvHeads: Hkv, headDim: d)
        }
        Linear.forward(h.data, a.attention.data, weight: w.oProj, bias: w.oBias?.data, rows: N,
                       inFeatures: Hq * d, outFeatures: D, accumulate: true)

        a.mid.data.update(from: h.data, count: N * D)
        RMSNorm.forward(a.midNormed.data, h.data, weight: w.postAttentionNorm.data, rstd: a.midRstd.data, rows: N, dim: D, eps: eps)
        Linear.forward(a.gate.data, a.midNormed.data, weight: w.gateProj, rows: N, inFeatures: D, outFeatures: I)
        Linear.forward(a.up.data, a.midNormed.data, weight: w.upProj, rows: N, inFeatures: D, outFeatures: I)
        SwiGLU.forward(a.act.data, gate: a.gate.data, up: a.up.data, count: N * I)
        Linear.forward(h.data, a.act.data, weight: w.downProj, rows: N, inFeatures: I, outFeatures: D, accumulate: true)
    }

    /// Backward of one decoder layer: `dh` [B·T, D] holds d(loss)/d(layer output) and becomes
    /// d(loss)/d(layer input). Weight gradients only when `g` is given.
    private func layerBackward(
        _ l: Int, _ dh: Tensor, _ a: LayerActivations, gradients g: Qwen3LayerGradients?,
        batch B: Int, length T: Int, cos: Tensor, sin: Tensor
    ) {
        let c = model.config, w = model.weights.layers[l], s = scratch!
        let N = B * T, D = c.hiddenSize, d = c.headDim, I = c.intermediateSize
        let Hq = c.numAttentionHeads, Hkv = c.numKeyValueHeads

        // MLP block: h_out = mid + down(silu(gate)·up).
        s.act.fill(0)
        Linear.backward(dX: s.act.data, dWeight: g?.downProj.data, dBias: nil, dY: dh.data, x: a.act.data,
                        weight: w.downProj, rows: N, inFeatures: I, outFeatures: D)
        s.gate.fill(0); s.up.fill(0)
        SwiGLU.backward(dGate: s.gate.data, dUp: s.up.data, dOut: s.act.data, gate: a.gate.data, up: a.up.data, count: N * I)
        s.normed.fill(0)
        Linear.backward(dX: s.normed.data, dWeight: g?.gateProj.data, dBias: nil, dY: s.gate.data, x: a.midNormed.data,
                        weight: w.gateProj, rows: N, inFeatures: D, outFeatures: I)
        Linear.backward(dX: s.normed.data, dWeight: g?.upProj.data, dBias: nil, dY: s.up.data, x: a.midNormed.data,
                        weight: w.upProj, rows: N, inFeatures: D, outFeatures: I)
        RMSNorm.backward(dInp: dh.data, dWeight: g?.postAttentionNorm.data, dOut: s.normed.data, inp: a.mid.data,
                         weight: w.postAttentionNorm.data, rstd: a.midRstd.data, rows: N, dim: D)

        // Attention block: mid = input + o_proj(attention(rope(norm(q)), rope(norm(k)), v)).
        s.attention.fill(0)
        Linear.backward(dX: s.attention.data, dWeight: g?.oProj.data, dBias: g?.oBias?.data, dY: dh.data, x: a.attention.data,
                        weight: w.oProj, rows: N, inFeatures: Hq * d, outFeatures: D)
        s.q.fill(0); s.k.fill(0); s.v.fill(0)
        for b in 0..<B {
            let qo = b * T * Hq * d, ko = b * T * Hkv * d
            let weights: Attention.Weights = if let probs = a.probs {
                .kept(probs.data + b * Hq * T * T)
            } else {
                .recomputed(softmaxStats: a.softmaxStats!.data + b * Hq * T * 2, scratch: s.weights!.data)
            }
            Attention.backward(dq: s.q.data + qo, dk: s.k.data + ko, dv: s.v.data + ko, dOut: s.attention.data + qo,
                               q: a.q.data + qo, k: a.k.data + ko, v: a.v.data + ko, weights: weights,
                               scratch: s.scores.data, queries: T, keys: T, heads: Hq, kvHeads: Hkv, headDim: d)
            model.rotary.backward(s.q.data + qo, cos: cos, sin: sin, tokens: T, heads: Hq)
            model.rotary.backward(s.k.data + ko, cos: cos, sin: sin, tokens: T, heads: Hkv)
        }
        // q/k norms; d(qRaw) reuses the attention-gradient buffer, which is no longer needed.
        let dqRaw = s.attention, dkRaw = s.kRaw
        dqRaw.fill(0); dkRaw.fill(0)
        RMSNorm.backward(dInp: dqRaw.data, dWeight: g?.qNorm.data, dOut: s.q.data, inp: a.qRaw.data, weight: w.qNorm.data,
                         rstd: a.qRstd.data, rows: N * Hq, dim: d)
        RMSNorm.backward(dInp: dkRaw.data, dWeight: g?.kNorm.data, dOut: s.k.data, inp: a.kRaw.data, weight: w.kNorm.data,
                         rstd: a.kRstd.data, rows: N * Hkv, dim: d)
        s.normed.fill(0)
        Linear.backward(dX: s.normed.data, dWeight: g?.qProj.data, dBias: g?.qBias?.data, dY: dqRaw.data, x: a.normed.data,
                        weight: w.qProj, rows: N, inFeatures: D, outFeatures: Hq * d)
        Linear.backward(dX: s.normed.data, dWeight: g?.kProj.data, dBias: g?.kBias?.data, dY: dkRaw.data, x: a.normed.data,
                        weight: w.kProj, rows: N, inFeatures: D, outFeatures: Hkv * d)
        Linear.backward(dX: s.normed.data, dWeight: g?.vProj.data, dBias: g?.vBias?.data, dY: s.v.data, x: a.normed.data,
                        weight: w.vProj, rows: N, inFeatures: D, outFeatures: Hkv * d)
        RMSNorm.backward(dInp: dh.data, dWeight: g?.inputNorm.data, dOut: s.normed.data, inp: a.input.data,
                         weight: w.inputNorm.data, rstd: a.inputRstd.data, rows: N, dim: D)
    }

    /// Final RMSNorm, LM head and cross-entropy for the rows that have a target, in chunks of
    /// `headChunk` rows: rows without a target never touch the head. Writes d(loss)/d(hidden) of
    /// those rows into `dHidden` and, in full mode, adds the norm and head weight gradients.
    private func headForwardBackward(
        _ hidden: Tensor, targets: [Int32], dHidden: Tensor, gradients g: Qwen3Gradients?, scale: Float
    ) -> (lossSum: Double, tokens: Int) {
        let c = model.config, D = c.hiddenSize, V = c.vocabSize, eps = Float(c.rmsNormEps)
        let w = model.weights
        let rows = targets.indices.filter { targets[$0] != CrossEntropy.ignoreIndex }
        var lossSum = 0.0
        let chunk = max(1, headChunk)
        let M = min(chunk, rows.count)
        guard M > 0 else { return (0, 0) }
        if (headBuffers?.logits.shape[0] ?? 0) < M {  // grows to the largest chunk seen, then stays
            headBuffers = nil
            headBuffers = HeadBuffers(rows: M, dim: D, vocab: V)
        }
        let (x, normed, rstd, logits, dNormed, dx) = headBuffers!.all
        var chunkTargets = [Int32](repeating: 0, count: M)
        var start = 0
        while start < rows.count {
            let part = rows[start..<min(rows.count, start + chunk)]
            let m = part.count
            for (i, r) in part.enumerated() {
                (x.data + i * D).update(from: hidden.data + r * D, count: D)
                chunkTargets[i] = targets[r]
            }
            RMSNorm.forward(normed.data, x.data, weight: w.norm.data, rstd: rstd.data, rows: m, dim: D, eps: eps)
            Linear.forward(logits.data, normed.data, weight: w.lmHead, rows: m, inFeatures: D, outFeatures: V)
            let loss = chunkTargets.withUnsafeBufferPointer {
                CrossEntropy.forwardBackward(logits: logits.data, targets: $0.baseAddress!, dLogits: logits.data,
                                             rows: m, vocab: V, scale: scale)
            }
            lossSum += loss.lossSum
            dNormed.fill(0)
            Linear.backward(dX: dNormed.data, dWeight: g?.lmHead.data, dBias: nil, dY: logits.data, x: normed.data,
                            weight: w.lmHead, rows: m, inFeatures: D, outFeatures: V)
            dx.fill(0)
            RMSNorm.backward(dInp: dx.data, dWeight: g?.norm.data, dOut: dNormed.data, inp: x.data, weight: w.norm.data,
                             rstd: rstd.data, rows: m, dim: D)
            for (i, r) in part.enumerated() { (dHidden.data + r * D).update(from: dx.data + i * D, count: D) }
            start += m
        }
        return (lossSum, rows.count)
    }
}

/// Buffers of the final norm, LM head and loss for a chunk of `rows` loss rows.
final class HeadBuffers {
    let x, normed, rstd, logits, dNormed, dx: Tensor
    init(rows M: Int, dim D: Int, vocab V: Int) {
        x = Tensor(zeros: [M, D]); normed = Tensor(zeros: [M, D]); rstd = Tensor(zeros: [M])
        logits = Tensor(zeros: [M, V]); dNormed = Tensor(zeros: [M, D]); dx = Tensor(zeros: [M, D])
    }
    var all: (Tensor, Tensor, Tensor, Tensor, Tensor, Tensor) { (x, normed, rstd, logits, dNormed, dx) }
}
