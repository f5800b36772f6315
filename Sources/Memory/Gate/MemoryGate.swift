import Compute
import Foundation

/// The learned dense retriever (method.md §4, tensors §11): z = gate_proj(q̄) with
/// gate_proj = in_proj (D→D) → two residual blocks x + fc2(GELU(fc1(LayerNorm(x)))) (D→2D→D) →
/// LayerNorm → out_proj (D→K), every matrix rank-r factorised when r > 0, every linear with a
/// bias; then S¹ = s·cos(z¹, P¹), S² = s·cos(z², P²) over the fixed k-means keys, with
/// s = min(exp(logit_scale), 100). Trained by the router loss only (the LM loss cannot reach it
/// through π, measured), so backward starts from dS¹ and dS².
public final class MemoryGate {
    public let hidden: Int, keyDim: Int, rank: Int
    /// A linear with its bias: the gate's linears all have one.
    struct BiasedLinear {
        let linear: MemoryLinear
        let bias: Tensor, biasGrad: Tensor
        init(_ inFeatures: Int, _ outFeatures: Int, rank: Int) {
            linear = MemoryLinear(inFeatures: inFeatures, outFeatures: outFeatures, rank: rank)
            bias = Tensor(zeros: [outFeatures]); biasGrad = Tensor(zeros: [outFeatures])
        }
        func parameters(_ prefix: String) -> [MemoryParameter] { linear.parameters(prefix) + [("\(prefix).bias", bias, biasGrad)] }
        func forward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, rows: Int, accumulate: Bool = false) {
            linear.forward(y, x, rows: rows, accumulate: accumulate)
            for r in 0..<rows { Vector.add(bias.data, into: y + r * linear.outFeatures, linear.outFeatures) }
        }
        func backward(dX: UnsafeMutablePointer<Float>?, dY: UnsafePointer<Float>, x: UnsafePointer<Float>, rows: Int) {
            linear.backward(dX: dX, dY: dY, x: x, rows: rows)
            for r in 0..<rows { Vector.add(dY + r * linear.outFeatures, into: biasGrad.data, linear.outFeatures) }
        }
    }
    /// LayerNorm weight and bias (ε 1e-5), with gradients.
    struct Norm {
        let weight: Tensor, bias: Tensor, weightGrad: Tensor, biasGrad: Tensor
        init(_ dim: Int) {
            weight = Tensor(zeros: [dim]); bias = Tensor(zeros: [dim]); weightGrad = Tensor(zeros: [dim]); biasGrad = Tensor(zeros: [dim])
            weight.fill(1)
        }
        func parameters(_ prefix: String) -> [MemoryParameter] {
            [("\(prefix).weight", weight, weightGrad), ("\(prefix).bias", bias, biasGrad)]
        }
    }
    struct Block { let norm: Norm; let fc1: BiasedLinear; let fc2: BiasedLinear }

    static let layerNormEps: Float = 1e-5
    /// The largest scale s the logit scale may reach.
    static let maxScale: Float = 100

    let inProj: BiasedLinear
    let blocks: [Block]
    let norm: Norm
    let outProj: BiasedLinear
    /// logit_scale, a scalar ([] in the checkpoint), ln(1/0.07) at init.
    public let logitScale: Tensor, logitScaleGrad: Tensor

    /// A gate of zero linears, LayerNorms 1 and 0, logit_scale ln(1/0.07); `initialize` or a
    /// checkpoint fills the linears.
    public init(hidden D: Int, keyDim K: Int, rank: Int) {
        hidden = D; keyDim = K; self.rank = rank
        inProj = BiasedLinear(D, D, rank: rank)
        blocks = (0..<2).map { _ in Block(norm: Norm(D), fc1: BiasedLinear(D, 2 * D, rank: rank), fc2: BiasedLinear(2 * D, D, rank: rank)) }
        norm = Norm(D)
        outProj = BiasedLinear(D, K, rank: rank)
        logitScale = Tensor(zeros: []); logitScaleGrad = Tensor(zeros: [])
        logitScale.data[0] = Float(log(1 / 0.07))
    }

    /// PyTorch's default initialisation of the linears: uniform in ±1/√in for weights (and each
    /// factor, by its own input width) and biases.
    public func initialize(_ generator: inout SeededGenerator) {
        for linear in [inProj] + blocks.flatMap({ [$0.fc1, $0.fc2] }) + [outProj] {
            for t in linear.linear.tensors + [linear.bias] {
                let bound = 1 / Float(t === linear.bias ? linear.linear.inFeatures : t.shape[1]).squareRoot()
                for i in 0..<t.count { t.data[i] = Float(generator.unit() * 2 - 1) * bound }
            }
        }
    }

    /// Every trainable tensor with its §11 name under `prefix` (`memory.layers.3.gate` or `memory.gate`).
    public func parameters(_ prefix: String) -> [MemoryParameter] {
        var list = inProj.parameters("\(prefix).in_proj")
        for (i, b) in blocks.enumerated() {
            list += b.norm.parameters("\(prefix).blocks.\(i).norm") + b.fc1.parameters("\(prefix).blocks.\(i).fc1")
                + b.fc2.parameters("\(prefix).blocks.\(i).fc2")
        }
        list += norm.parameters("\(prefix).norm") + outProj.parameters("\(prefix).out_proj")
        list.append(("\(prefix).logit_scale", logitScale, logitScaleGrad))
        return list
    }

    /// s = min(exp(logit_scale), 100).
    public var scale: Float { min(expf(logitScale.data[0]), Self.maxScale) }

    /// What backward needs of a forward over B query states.
    public final class Activations {
        let rows: Int
        let input: Tensor
        /// The residual stream before each block and after the last: [3][B, D].
        var stream: [Tensor] = []
        var normed: [Tensor] = [], preGELU: [Tensor] = [], postGELU: [Tensor] = []
        var finalNormed: Tensor
        /// z [B, K].
        public let z: Tensor
        /// cos(z^h, P^h) [B, n] for the two halves, before the scale.
        public var cosines: [Tensor] = []
        init(input: Tensor, hidden D: Int, keyDim K: Int) {
            rows = input.shape[0]
            self.input = input
            finalNormed = Tensor(zeros: [rows, D])
            z = Tensor(zeros: [rows, K])
        }
    }

    /// z = gate_proj(q̄) for q̄ [B, D] (method §4).
    public func project(_ q: Tensor) -> Activations {
        let B = q.shape[0], D = hidden
        let a = Activations(input: q, hidden: D, keyDim: keyDim)
        var x = Tensor(zeros: [B, D])
        inProj.forward(x.data, q.data, rows: B)
        for block in blocks {
            a.stream.append(x)
            let n = Tensor(zeros: [B, D]), f = Tensor(zeros: [B, 2 * D])
            LayerNorm.forward(n.data, x.data, weight: block.norm.weight.data, bias: block.norm.bias.data, rows: B, dim: D, eps: Self.layerNormEps)
            block.fc1.forward(f.data, n.data, rows: B)
            let g = f.copy()
            GELU.forward(g.data, count: g.count)
            let next = x.copy()
            block.fc2.forward(next.data, g.data, rows: B, accumulate: true)
            a.normed.append(n); a.preGELU.append(f); a.postGELU.append(g)
            x = next
        }
        a.stream.append(x)
        LayerNorm.forward(a.finalNormed.data, x.data, weight: norm.weight.data, bias: norm.bias.data, rows: B, dim: D, eps: Self.layerNormEps)
        outProj.forward(a.z.data, a.finalNormed.data, rows: B)
        return a
    }

    /// S¹ and S² [B, n] = s·cos(z^h, P^h) against `keys` [2, n, K/2]; the cosines are kept in `a`.
    public func scores(_ a: Activations, keys: Tensor) -> [Tensor] {
        let B = a.rows, n = keys.shape[1], half = keyDim / 2, s = scale
        a.cosines = (0..<2).map { h in
            let cos = Tensor(zeros: [B, n])
            let keyHalf = keys.data + h * n * half
            for b in 0..<B {
                let z = a.z.data + b * keyDim + h * half
                let zNorm = Vector.sumOfSquares(z, half).squareRoot()
                Linear.forward(cos.data + b * n, z, weight: keyHalf, rows: 1, inFeatures: half, outFeatures: n)
                for r in 0..<n { cos.data[b * n + r] /= max(zNorm * Vector.sumOfSquares(keyHalf + r * half, half).squareRoot(), 1e-8) }
            }
            return cos
        }
        return a.cosines.map { cos in
            let S = cos.copy()
            for i in 0..<S.count { S.data[i] *= s }
            return S
        }
    }

    /// Backward from dS¹, dS² [B, n]: accumulates every parameter's gradient, and dQ [B, D] when given.
    public func backward(_ a: Activations, dScores: [Tensor], keys: Tensor, dQ: UnsafeMutablePointer<Float>? = nil) {
        let B = a.rows, D = hidden, n = keys.shape[1], half = keyDim / 2, s = scale
        // S = s·cos: d logit_scale = Σ dS·cos·s while exp(logit_scale) is below the clamp.
        if expf(logitScale.data[0]) < Self.maxScale {
            for h in 0..<2 { logitScaleGrad.data[0] += s * Vector.dot(dScores[h].data, a.cosines[h].data, B * n) }
        }
        // cos = z·p/(|z||p|): dz = Σ_r dcos_r (p_r/(|z||p_r|) − cos_r·z/|z|²).
        let dz = Tensor(zeros: [B, keyDim])
        for h in 0..<2 {
            let keyHalf = keys.data + h * n * half
            for b in 0..<B {
                let z = a.z.data + b * keyDim + h * half, out = dz.data + b * keyDim + h * half
                let zNorm2 = max(Vector.sumOfSquares(z, half), 1e-16), zNorm = zNorm2.squareRoot()
                var radial: Float = 0
                for r in 0..<n {
                    let dcos = dScores[h].data[b * n + r] * s
                    let p = keyHalf + r * half
                    Vector.axpy(dcos / max(zNorm * Vector.sumOfSquares(p, half).squareRoot(), 1e-8), p, out, half)
                    radial += dcos * a.cosines[h].data[b * n + r]
                }
                Vector.axpy(-radial / zNorm2, z, out, half)
            }
        }
        let dFinal = Tensor(zeros: [B, D])
        outProj.backward(dX: dFinal.data, dY: dz.data, x: a.finalNormed.data, rows: B)
        let dx = Tensor(zeros: [B, D])
        LayerNorm.backward(dInp: dx.data, dWeight: norm.weightGrad.data, dBias: norm.biasGrad.data, dOut: dFinal.data,
                           inp: a.stream[2].data, weight: norm.weight.data, rows: B, dim: D, eps: Self.layerNormEps)
        for i in stride(from: blocks.count - 1, through: 0, by: -1) {
            // x_{i+1} = x_i + fc2(GELU(fc1(LN(x_i)))): dx passes through and gains the block's path.
            let block = blocks[i]
            let dg = Tensor(zeros: [B, 2 * D]), df = Tensor(zeros: [B, 2 * D]), dn = Tensor(zeros: [B, D])
            block.fc2.backward(dX: dg.data, dY: dx.data, x: a.postGELU[i].data, rows: B)
            GELU.backward(df.data, dOut: dg.data, inp: a.preGELU[i].data, count: df.count)
            block.fc1.backward(dX: dn.data, dY: df.data, x: a.normed[i].data, rows: B)
            LayerNorm.backward(dInp: dx.data, dWeight: block.norm.weightGrad.data, dBias: block.norm.biasGrad.data, dOut: dn.data,
                               inp: a.stream[i].data, weight: block.norm.weight.data, rows: B, dim: D, eps: Self.layerNormEps)
        }
        inProj.backward(dX: dQ, dY: dx.data, x: a.input.data, rows: B)
    }
}
