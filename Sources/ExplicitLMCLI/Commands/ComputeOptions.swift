import ArgumentParser
import Compute
import Foundation
import Qwen3

extension Backend.Compute: ExpressibleByArgument {}

/// `--compute f32|bf16`: the arithmetic of products with a BF16 checkpoint's weights (`Backend.Compute`).
struct ComputeOptions: ParsableArguments {
    @Option(help: ArgumentHelp("f32: exact float32 products (the default, or EXPLICITLM_COMPUTE). bf16: a BF16 checkpoint's weights "
                               + "multiply activations rounded to bfloat16, with float32 sums (about twice the prefill speed; "
                               + "needs AVX-512 BF16).", valueName: "f32|bf16"))
    var compute: Backend.Compute?

    /// Puts the backend in the asked mode before any product runs; bf16 where it cannot take effect is refused.
    func apply() throws {
        guard let compute else { return }
        if compute == .bf16 && !Backend.hostHasBF16Compute {
            throw CLIError("--compute bf16 needs a CPU with AVX-512 BF16, and this one has none (use --compute f32)")
        }
        Backend.compute = compute
        if Backend.compute != compute {
            throw CLIError("--compute bf16 needs the AVX-512 kernels, but EXPLICITLM_ISA=\(Backend.instructionSet.rawValue) caps them")
        }
    }

    /// Applies the mode, then loads the Qwen3 checkpoint in `directory`, with a note on stderr when bf16
    /// compute was asked for a model whose weights are float32 (it changes nothing there).
    func loadModel(_ directory: URL) throws -> Qwen3Model {
        try apply()
        let model = try Qwen3Model.load(directory: directory)
        if compute == .bf16, model.weights.lmHead.element != .bfloat16 {
            FileHandle.standardError.write(Data("note: --compute bf16 applies to BF16 weights; \(directory.path) is float32, so its products stay float32\n".utf8))
        }
        return model
    }
}
