// swift-tools-version:6.0
// The libFuzzer driver: one executable that runs the target named by EXPLICITLM_FUZZ_TARGET (see
// FuzzTargets.all in the root package). A package of its own so that the root package's build and
// tests never build it; scripts/fuzz.sh builds it with -sanitize=fuzzer,address.
import PackageDescription

let package = Package(
    name: "ExplicitLMFuzz",
    platforms: [.macOS(.v14)],
    dependencies: [.package(name: "ExplicitLM", path: "..")],
    targets: [
        .executableTarget(name: "explicitlm-fuzz", dependencies: [.product(name: "FuzzTargets", package: "ExplicitLM")],
                          path: "Driver",
                          // GNU gold fails with an internal error on the sanitized objects; lld links them.
                          linkerSettings: [.unsafeFlags(["-use-ld=lld"])]),
    ]
)
