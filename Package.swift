// swift-tools-version:6.1
import PackageDescription

// One picture: gateway (PixelhookGateways: CGI | stdin | FastCGI) → PixelhookCore → PixelhookRuntime
// (spool + handlers); the executable picks the mode and holds the commands. Map: docs/architecture.md.
let package = Package(
    name: "pixelhook",
    products: [
        .executable(name: "pixelhook", targets: ["pixelhook"]),
        .executable(name: "pixelhook-fuzz", targets: ["pixelhook-fuzz"]),
        .executable(name: "pixelhook-cluster", targets: ["pixelhook-cluster"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
    ],
    targets: [
        // Pure request logic: envelope, validation, settings, the decision for one request.
        .target(name: "PixelhookCore", dependencies: ["COpenSSLHash"]),
        // SHA-256 for ids that cannot be path segments (libcrypto; swift-crypto would compile
        // BoringSSL into every build for one hash function).
        .systemLibrary(name: "COpenSSLHash", providers: [.apt(["libssl-dev"])]),
        // O_TMPFILE, waitid(WNOWAIT), posix_spawn with a process group: what Glibc does not import.
        .target(name: "CPosix"),
        // The only code that touches the disk and processes: spool, request log, handler runs.
        .target(
            name: "PixelhookRuntime",
            dependencies: [
                "PixelhookCore",
                "CPosix",
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // libfcgi's FCGX_* API for the FastCGI responder.
        .systemLibrary(name: "CFastCGI", providers: [.apt(["libfcgi-dev"])]),
        // The gateways: CGI, stdin and FastCGI (libfcgi) turn a web server's request into a
        // `Receiver` call and its response into bytes; a library, so tests can call them in-process.
        .target(
            name: "PixelhookGateways",
            dependencies: ["PixelhookCore", "PixelhookRuntime", "CFastCGI", "CPosix"]
        ),
        // `main.swift` (mode detection) and one file per subcommand, grouped as `--help` shows them.
        .executableTarget(
            name: "pixelhook",
            dependencies: [
                "PixelhookCore",
                "PixelhookRuntime",
                "PixelhookGateways",
                "CPosix",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Cluster mode (docs/cluster.md): libpq, dynamically linked, in a helper of its own so that
        // the static one-shot `pixelhook` never loads it (linking it costs every CGI start ~4 ms).
        .systemLibrary(name: "CLibPQ", providers: [.apt(["libpq-dev"])]),
        .executableTarget(
            name: "pixelhook-cluster",
            dependencies: ["PixelhookCore", "PixelhookRuntime", "CLibPQ"],
            path: "Sources/PixelhookCluster"
        ),
        // The request core and the FastCGI record stream (FastCGIRecordCheck, then libfcgi) under
        // libFuzzer (`fuzz/run.sh`): the checks, then the entry and replayer.
        .target(name: "PixelhookFuzz", dependencies: ["PixelhookCore", "CFastCGI"]),
        .target(name: "PixelhookFuzzDriver"),
        .executableTarget(
            name: "pixelhook-fuzz", dependencies: ["PixelhookFuzz", "PixelhookFuzzDriver"], path: "Sources/PixelhookFuzzMain"
        ),
        .testTarget(
            name: "PixelhookCoreTests",
            dependencies: ["PixelhookCore", "PixelhookTestSupport"]
        ),
        .testTarget(
            name: "PixelhookRuntimeTests",
            dependencies: ["PixelhookCore", "PixelhookRuntime", "PixelhookTestSupport"]
        ),
        // What the test targets share: starting a process (ChildProcess), running the built
        // `pixelhook`, temporary directories and users, the seeds' payloads from examples/events.
        .target(name: "PixelhookTestSupport", path: "Tests/PixelhookTestSupport"),
        // The gateways called in-process, on real sockets.
        .testTarget(name: "PixelhookGatewaysTests", dependencies: ["PixelhookGateways"]),
        // Real lighttpd, nginx and fcgiwrap driving the built `pixelhook` binary.
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["pixelhook", "pixelhook-cluster", "PixelhookTestSupport"],
            resources: []
        ),
        .testTarget(name: "CommandTests", dependencies: ["pixelhook", "PixelhookCore", "PixelhookRuntime", "PixelhookTestSupport"]),
        // `send`, `simulate` and the example handlers, run as processes against local HTTP servers.
        .testTarget(name: "ClientTests", dependencies: ["pixelhook", "PixelhookCore", "PixelhookTestSupport"]),
        // Replays fuzz/corpus through the fuzz checks: what CI runs instead of fuzzing.
        .testTarget(name: "FuzzCorpusTests", dependencies: ["PixelhookFuzz"]),
    ]
)

for target in package.targets where target.type != .system {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    target.swiftSettings = settings
}
