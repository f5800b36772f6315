import ArgumentParser
import FileIO
import Foundation
import Training

/// `explicitlm convert-omcq`: multiple-choice questions → the seed's SFT conversations (method §7).
struct ConvertOMCQCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert-omcq",
        abstract: "Convert OMCQ items to SFT conversation lines with their fact_uuid.",
        discussion: """
            Input: {"question", "options": "A:...,B:...", "correct_answer": "B:...", "uuid"} items, one alone, \
            in a JSON array, under a "target" key, or one per line (JSON Lines).
            Output, one line per item: {"conversations": [{"role": "user", "content": question + "\\n" + options}, \
            {"role": "assistant", "content": correct_answer}], "fact_uuid": uuid}.
            """)

    @Option(help: "The OMCQ file (.json or .jsonl).") var input: String
    @Option(help: "The SFT JSONL file to write (replaced whole, only when the conversion succeeds).") var output: String
    @Flag(help: "Skip invalid items (counted and listed on stderr) instead of failing.") var skipInvalid = false

    func run() throws {
        let file = try OMCQFile.load(URL(fileURLWithPath: input))
        if !file.problems.isEmpty {
            let shown = file.problems.prefix(20).joined(separator: "\n")
            let more = file.problems.count > 20 ? "\n… and \(file.problems.count - 20) more" : ""
            guard skipInvalid else {
                throw CLIError("\(file.problems.count) invalid OMCQ item(s) (--skip-invalid skips them):\n\(shown)\(more)")
            }
            FileHandle.standardError.write(Data("skipped \(file.problems.count) invalid OMCQ item(s):\n\(shown)\(more)\n".utf8))
        }
        guard !file.items.isEmpty else { throw CLIError("\(input): no valid OMCQ items to convert") }
        try AtomicFile.write(Array(file.sftJSONL.utf8), to: URL(fileURLWithPath: output))
        FileHandle.standardError.write(Data("wrote \(file.items.count) conversation(s) to \(output)\n".utf8))
    }
}
