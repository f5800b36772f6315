import Compute
import Foundation

/// The α gate (method.md §5): α_t = clamp(sigmoid(fc2(SiLU(fc1(σ_t)))) + β, 0, 1), fc1: 1 → D/4,
/// fc2: D/4 → 1 (with biases), β = 0 at init. Per token on a scalar, so plain loops.
public final class AlphaGate {
    public let width: Int
    public let fc1Weight: Tensor, fc1Bias: Tensor, fc2Weight: Tensor, fc2Bias: Tensor, beta: Tensor
    public let gradients: [Tensor]

    public init(hidden D: Int) {
        width = D / 4
        fc1Weight = Tensor(zeros: [width, 1]); fc1Bias = Tensor(zeros: [width])
        fc2Weight = Tensor(zeros: [1, width]); fc2Bias = Tensor(zeros: [1]); beta = Tensor(zeros: [1])
        gradients = [fc1Weight, fc1Bias, fc2Weight, fc2Bias, beta].map { Tensor(zeros: $0.shape) }
    }

    public static let names = ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "beta"]
    public var tensors: [Tensor] { [fc1Weight, fc1Bias, fc2Weight, fc2Bias, beta] }

    public func parameters(_ prefix: String) -> [MemoryParameter] {
        (0..<5).map { ("\(prefix).\(Self.names[$0])", tensors[$0], gradients[$0]) }
    }

    /// What backward needs for n tokens: fc1's pre-activation [n, D/4], the sigmoid and the
    /// unclamped gate.
    public struct Saved {
        var sigma: [Float], z1: [Float], gate: [Float], raw: [Float]
    }

    /// α [n] from σ [n].
    public func forward(_ sigma: [Float]) -> (alpha: [Float], saved: Saved) {
        let n = sigma.count, W = width
        var z1 = [Float](repeating: 0, count: n * W), gate = [Float](repeating: 0, count: n), raw = gate, alpha = gate
        for t in 0..<n {
            var z2 = fc2Bias.data[0]
            for k in 0..<W {
                let z = fc1Weight.data[k] * sigma[t] + fc1Bias.data[k]
                z1[t * W + k] = z
                z2 += fc2Weight.data[k] * (z / (1 + expf(-z)))
            }
            gate[t] = 1 / (1 + expf(-z2))
            raw[t] = gate[t] + beta.data[0]
            alpha[t] = min(max(raw[t], 0), 1)
        }
        return (alpha, Saved(sigma: sigma, z1: z1, gate: gate, raw: raw))
    }

    /// dσ [n] from dα [n]; the parameter gradients accumulate. The clamp passes the gradient where
    /// 0 ≤ raw ≤ 1, as torch.clamp.
    public func backward(dAlpha: [Float], saved s: Saved) -> [Float] {
        let n = dAlpha.count, W = width
        var dSigma = [Float](repeating: 0, count: n)
        let g = gradients.map(\.data)
        for t in 0..<n where s.raw[t] >= 0 && s.raw[t] <= 1 {
            g[4][0] += dAlpha[t]
            let dz2 = dAlpha[t] * s.gate[t] * (1 - s.gate[t])
            g[3][0] += dz2
            for k in 0..<W {
                let z = s.z1[t * W + k], sg = 1 / (1 + expf(-z))
                g[2][k] += dz2 * z * sg
                let dz1 = dz2 * fc2Weight.data[k] * sg * (1 + z * (1 - sg))
                g[1][k] += dz1
                g[0][k] += dz1 * s.sigma[t]
                dSigma[t] += dz1 * fc1Weight.data[k]
            }
        }
        return dSigma
    }
}
