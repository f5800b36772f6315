import Foundation

// explicitlm-bench TASK [--key value ...]: runs one measured task and prints one JSON line.
let arguments = Array(CommandLine.arguments.dropFirst())
guard let task = arguments.first else {
    FileHandle.standardError.write(Data(("usage: ExplicitLMBench qwen3 --model DIR [--prompt-tokens N] [--new-tokens N] [--prefill-repeats N] [--prefill-logits all|last]\n"
        + "       ExplicitLMBench tokenizer --tokenizer PATH --corpus FILE\n"
        + "       ExplicitLMBench train-step --model DIR [--batch B] [--tokens T] [--layer L] [--steps N] [--keep-attention-weights 1|0]\n"
        + "       ExplicitLMBench train-full --model DIR [--batch 4] [--tokens 128] [--steps 5] [--save-model DIR]\n"
        + "       ExplicitLMBench train-memory --model DIR [--batch 1] [--tokens 256] [--prompt 200] [--candidates 16] [--steps 2]\n"
        + "       ExplicitLMBench embed --model DIR --texts FILE [--batch N] [--repeats N]\n"
        + "       ExplicitLMBench attention [--tokens 256] [--layers 28] [--repeats 3]\n"
        + "       ExplicitLMBench coarse-retrieval [--rows 1048576] [--dim 2560] [--encoder-dim 384] [--queries 200]\n"
        + "       ExplicitLMBench memory-step [--tokens 256] [--repeats 5]\n"
        + "       ExplicitLMBench bank --tokenizer PATH [--rows 1048576] [--length 16] [--edits 50] [--queries 200] [--out DIR [--reuse 1]]\n").utf8))
    exit(2)
}
var options: [String: String] = [:]
var i = 1
while i + 1 < arguments.count, arguments[i].hasPrefix("--") {
    options[String(arguments[i].dropFirst(2))] = arguments[i + 1]
    i += 2
}
do {
    switch task {
    case "qwen3": try benchQwen3(options)
    case "tokenizer": try benchTokenizer(options)
    case "train-step": try benchTrainStep(options)
    case "train-full": try benchTrainFull(options)
    case "train-memory": try benchTrainMemory(options)
    case "embed": try benchEmbed(options)
    case "attention": try benchAttention(options)
    case "coarse-retrieval": try benchCoarseRetrieval(options)
    case "bank": try benchBank(options)
    case "memory-step": try benchMemoryStep(options)
    default:
        FileHandle.standardError.write(Data("unknown task \(task)\n".utf8))
        exit(2)
    }
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
