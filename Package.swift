// swift-tools-version:6.0
// ExplicitLM: a Qwen3 language model with an explicit, editable memory.
// Modules follow the data flow: tokenizer → backbone → memory → losses → optimizer → checkpoints,
// with the command line on top and the compute kernels underneath.
import PackageDescription

/// Everything is built for the CPU: at the default target, Swift SIMD FMA becomes one libm call per
/// lane. haswell (AVX2 + FMA) keeps the binary portable to any x86-64 machine of the last decade.
let haswell: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "haswell"])]
/// Only the innermost numeric kernels (Compute: flat buffers whose sizes their callers checked) build
/// without bounds and overflow checks. Everything that reads files, arguments or requests keeps them,
/// so a missing validation stops the process instead of writing out of bounds.
let uncheckedKernels: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-target-cpu", "haswell"])]

let package = Package(
    name: "ExplicitLM",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "explicitlm", targets: ["ExplicitLMCLI"]),
        .library(name: "ExplicitLM", targets: ["Compute", "FileIO", "JSON", "SafeTensors", "TorchFormat", "Tokenizers", "Qwen3", "Encoders", "Memory", "Training"]),
        // For the libFuzzer driver package in Fuzz/ only.
        .library(name: "FuzzTargets", targets: ["FuzzTargets"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // YAML (and JSON) settings files for --config.
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // OpenBLAS's CBLAS interface (Debian: libopenblas-dev).
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", providers: [.apt(["libopenblas-dev"])]),
        // Our own GEMM/GEMV kernels in C: AVX-512 and AVX2+FMA microkernels chosen at run time (each
        // function carries its own target attribute, so the file builds for any x86-64), a portable path.
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3"])]),
        // Flat float buffers, the backend seam (own kernels or OpenBLAS), threads and the forward/backward kernels of every op.
        .target(name: "Compute", dependencies: ["CBLAS", "CKernels"], swiftSettings: uncheckedKernels),
        // SQLite's C library (Debian: libsqlite3-dev): the memory bank's rows and edit log.
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        // Writing files safely: atomic replacement, one-rename directories, append-only logs.
        .target(name: "FileIO", swiftSettings: haswell),
        // The one JSON reader: ordered keys, literal numbers, line/column errors, depth and duplicate-key rules.
        .target(name: "JSON", swiftSettings: haswell),
        // The safetensors file format: memory-mapped reading, sharded checkpoints, atomic writing.
        .target(name: "SafeTensors", dependencies: ["Compute", "FileIO", "JSON"], swiftSettings: haswell),
        // PyTorch torch.save files, tensors only: a ZIP reader and a pickle reader that executes nothing.
        .target(name: "TorchFormat", dependencies: ["Compute"], swiftSettings: haswell),
        // Byte-level BPE (Qwen3), WordPiece (BERT), the Qwen3 chat template, conversation data.
        .target(name: "Tokenizers", dependencies: ["JSON"], swiftSettings: haswell),
        // The Qwen3 backbone: config, strict weight loading, forward pass, KV cache, generation.
        .target(name: "Qwen3", dependencies: ["Compute", "JSON", "SafeTensors", "Tokenizers"], swiftSettings: haswell),
        // BERT-family sentence encoders and the embedder interface.
        .target(name: "Encoders", dependencies: ["Compute", "JSON", "SafeTensors", "Tokenizers", "Qwen3"], swiftSettings: haswell),
        // The explicit memory (method.md): bank, retrievers, fine selection, fusion, the memory step.
        .target(name: "Memory", dependencies: ["Compute", "CSQLite", "FileIO", "JSON", "SafeTensors", "TorchFormat", "Tokenizers", "Qwen3", "Encoders"], swiftSettings: haswell),
        // Gradients through Qwen3, AdamW, schedules, checkpoints, the training loop and its settings.
        .target(name: "Training", dependencies: ["Compute", "FileIO", "JSON", "SafeTensors", "Tokenizers", "Qwen3", "Memory",
                                               .product(name: "Yams", package: "Yams")], swiftSettings: haswell),
        .executableTarget(
            name: "ExplicitLMCLI",
            dependencies: [
                "Compute", "FileIO", "JSON", "SafeTensors", "Tokenizers", "Qwen3", "Encoders", "Memory", "Training",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // Every input parser as a fuzz target (bytes in; errors fine, crashes not): the libFuzzer driver
        // in Fuzz/ (its own package, built only by scripts/fuzz.sh) and FuzzCorpusTests run them.
        .target(name: "FuzzTargets", dependencies: ["JSON", "SafeTensors", "TorchFormat", "Tokenizers", "Qwen3", "Encoders", "Memory"],
                path: "Fuzz/Targets"),
        // Timings of our code for bench/*.py, which run the PyTorch reference on the same work.
        .executableTarget(
            name: "ExplicitLMBench", dependencies: ["Compute", "SafeTensors", "Tokenizers", "Qwen3", "Encoders", "Memory", "Training"],
            path: "bench/Sources/ExplicitLMBench", swiftSettings: haswell),
        // Shared by the test targets: running the built `explicitlm` binary, killing a child test.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "ComputeTests", dependencies: ["Compute"]),
        .testTarget(name: "FileIOTests", dependencies: ["FileIO", "TestSupport"]),
        .testTarget(name: "JSONTests", dependencies: ["JSON"]),
        .testTarget(name: "SafeTensorsTests", dependencies: ["SafeTensors"], exclude: ["Fixtures"]),
        .testTarget(name: "TorchFormatTests", dependencies: ["TorchFormat", "Compute", "JSON"], exclude: ["Fixtures"]),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers", "JSON"], exclude: ["Fixtures"]),
        .testTarget(name: "Qwen3Tests", dependencies: ["Qwen3", "SafeTensors", "Compute", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "EncodersTests", dependencies: ["Encoders", "SafeTensors", "Compute", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Memory", "Encoders", "Tokenizers", "Qwen3", "SafeTensors", "Compute", "JSON", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "EvaluationTests", dependencies: ["Training", "Memory", "Qwen3", "Tokenizers", "Compute", "TestSupport"]),
        .testTarget(name: "MemoryTests", dependencies: ["Memory", "Qwen3", "Training", "SafeTensors", "Compute", "Encoders", "JSON", "TestSupport"], exclude: ["Fixtures"]),
        // The command line against hostile input, as a user runs it.
        .testTarget(name: "CLITests", dependencies: ["SafeTensors", "TestSupport", "Memory", "Qwen3", "Compute"], exclude: ["Fixtures"]),
        .testTarget(name: "FuzzCorpusTests", dependencies: ["FuzzTargets"]),
    ]
)
