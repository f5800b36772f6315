import FuzzTargets
import Foundation

// The libFuzzer driver for the target named by EXPLICITLM_FUZZ_TARGET (scripts/fuzz.sh sets it).
// SwiftPM links an executable's top-level code as `main`, so this calls libFuzzer's own driver
// instead of linking libFuzzer's main.

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

let name = ProcessInfo.processInfo.environment["EXPLICITLM_FUZZ_TARGET"] ?? ""
if name == "list" {
    for target in FuzzTargets.all { print(target.name, target.maxLength) }
    exit(0)
}
guard let selected = FuzzTargets.named(name) else {
    FileHandle.standardError.write(Data("EXPLICITLM_FUZZ_TARGET='\(name)' names no target; targets: \(FuzzTargets.all.map(\.name).joined(separator: " "))\n".utf8))
    exit(2)
}
let run = selected.run

var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
    run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
})
