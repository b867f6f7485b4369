// swift-tools-version: 6.0
import PackageDescription

/// `caisson-runtime` is on the container start-up hot path: it is a fully static
/// executable (Swift runtime, libseccomp and glibc linked in; no dynamic loader, no
/// Foundation), which halves its start-up time and its resident memory,
/// and it stays single-threaded so that it may clone like crun does.
let staticRuntimeLinking: [LinkerSetting] = [
    .unsafeFlags([
        "-static-executable",
    ])
]

/// caisson-runtime's peak RSS is mostly the binary's own code pages, which the kernel maps
/// 64 KB at a time around each first touch: lld lays out the functions a `run` executes
/// (Support/caisson-runtime.order, made by scripts/order-runtime-functions) side by side,
/// which took the peak from 6.1 MB to 4.5 MB.
let orderedStaticRuntimeLinking: [LinkerSetting] = [
    .unsafeFlags([
        "-static-executable",
        "-use-ld=lld",
        "-Xlinker", "--symbol-ordering-file=\(Context.packageDirectory)/Support/caisson-runtime.order",
        "-Xlinker", "--no-warn-symbol-ordering",
    ])
]

let package = Package(
    name: "caisson",
    products: [
        .executable(name: "caisson-runtime", targets: ["caisson-runtime"]),
        .executable(name: "caisson", targets: ["caisson"]),
        .executable(name: "caisson-monitor", targets: ["caisson-monitor"]),
        .executable(name: "caissond", targets: ["caissond"]),
    ],
    dependencies: [
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
    ],
    targets: [
        // C for the few calls Swift cannot make: clone3, prctl, ioctl, CMSG macros, ...
        .target(name: "CaissonShim"),
        // libseccomp from Debian (libseccomp-dev).
        .systemLibrary(name: "CSeccomp", pkgConfig: "libseccomp", providers: [.apt(["libseccomp-dev"])]),
        // Typed system-call layer: errors with errno and context, fds, files, signals.
        .target(name: "CaissonSys", dependencies: ["CaissonShim"]),
        // JSON parsing and Codable support without Foundation (the runtime's hot path).
        .target(name: "CaissonJSON"),
        // The engine's event log line, written alike by the engine and the monitors.
        .target(name: "EventLogFormat", dependencies: ["CaissonSys", "CaissonJSON"]),
        // OCI runtime-spec types (config.json, state, features) and their validation.
        .target(name: "OCISpec", dependencies: ["CaissonSys", "CaissonJSON"]),
        // cgroup v1, v2 and hybrid managers.
        .target(name: "Cgroups", dependencies: ["CaissonSys", "OCISpec", "CaissonShim"]),
        // Container lifecycle: state store, process creation, rootfs, security, hooks.
        .target(name: "RuntimeCore", dependencies: ["CaissonSys", "CaissonJSON", "OCISpec", "Cgroups", "CSeccomp", "CaissonShim"]),
        .executableTarget(
            name: "caisson-runtime",
            dependencies: ["RuntimeCore", "OCISpec", "CaissonSys", "Cgroups"],
            linkerSettings: orderedStaticRuntimeLinking
        ),
        // zlib and zstd from Debian (zlib1g-dev, libzstd-dev): layer (de)compression.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        // OCI image-spec types: digests, descriptors, manifests, indexes, image configs, references.
        .target(name: "ImageSpec", dependencies: ["CaissonJSON", "CaissonSys", .product(name: "Crypto", package: "swift-crypto")]),
        // Tar archives, gzip/zstd streams and applying a layer to a directory (contained, whiteouts).
        .target(name: "LayerArchive", dependencies: ["CaissonSys", "CaissonShim", "CZlib", "CZstd", "ImageSpec"]),
        // The content-addressed blob store: verified ingest, read-only blobs, garbage collection.
        .target(name: "ContentStore", dependencies: ["CaissonSys", "ImageSpec"]),
        // registries.conf (TOML), auth files and RegistryError: the registry settings, without
        // the HTTP client (so the parsers build and fuzz alone).
        .target(name: "RegistryConfig", dependencies: ["CaissonSys", "CaissonJSON", "ImageSpec", "ContentStore"]),
        // The OCI distribution client (pull and push); re-exports RegistryConfig.
        .target(name: "Registry", dependencies: [
            "RegistryConfig", "CaissonSys", "CaissonJSON", "ImageSpec", "ContentStore",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        // Images on this machine: the image index, snapshots on overlayfs, bundles, import/export.
        .target(name: "Images", dependencies: [
            "CaissonSys", "CaissonJSON", "ImageSpec", "ContentStore", "LayerArchive", "Registry", "OCISpec",
        ]),
        // A container's health (docker's State.Health) and the rules probes update it by:
        // written by the monitor, read by the engine.
        .target(name: "ContainerHealth", dependencies: ["CaissonJSON"]),
        // The engine: containers, networks (CNI) and volumes, in one SQLite store.
        .target(name: "Engine", dependencies: [
            "CaissonSys", "CaissonJSON", "Images", "ImageSpec", "OCISpec", "AttachProtocol", "CaissonShim", "LayerArchive",
            "CLIFormatting", "ContainerHealth", "Cgroups", "EventLogFormat",
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        // The frames between a container's monitor and attached `caisson` commands.
        .target(name: "AttachProtocol"),
        // Image scanning (issue 14): version orderings, the SBOM catalogers, the OSV
        // database, and the scanner over the image store.
        .target(name: "PackageVersions"),
        .target(name: "SBOM", dependencies: [
            "CaissonSys", "CaissonShim", "CaissonJSON", "LayerArchive", "CZlib",
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .target(name: "VulnerabilityDB", dependencies: [
            "CaissonSys", "CaissonJSON", "LayerArchive", .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .target(name: "ImageScanning", dependencies: ["SBOM", "PackageVersions", "VulnerabilityDB", "Images", "RegistryConfig", "CaissonSys", "CaissonJSON", "ImageSpec"]),
        // The per-container monitor (like conmon): single-threaded, Foundation-free, static.
        .executableTarget(
            name: "caisson-monitor",
            dependencies: ["CaissonSys", "CaissonShim", "CaissonJSON", "CLIFormatting", "ContainerHealth", "AttachProtocol", "EventLogFormat"],
            linkerSettings: staticRuntimeLinking
        ),
        // docker's output formats for the command line: sizes, times, tables, `--format` templates.
        .target(name: "CLIFormatting", dependencies: ["CaissonJSON"]),
        // The Dockerfile language for `caisson build`: directives, heredocs, instructions and
        // their flags, variable substitution, the stage graph and .dockerignore patterns.
        .target(name: "Dockerfile", dependencies: ["CaissonJSON", "CLIFormatting"]),
        // `caisson build`'s steps over the image store and the OCI runtime (issue 12, in progress).
        // ADD of a URL downloads with AsyncHTTPClient, as the registry client does.
        .target(name: "Builder", dependencies: [
            "Images", "ImageSpec", "OCISpec", "CaissonSys", "CaissonShim", "LayerArchive", "Dockerfile", "Registry", "Engine",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        .executableTarget(
            name: "caisson",
            dependencies: [
                "CLIFormatting", "Images", "Registry", "ImageSpec", "ContentStore", "LayerArchive", "CaissonSys", "CaissonJSON",
                "Engine", "AttachProtocol", "CaissonShim", "Builder", "ContainerHealth", "DockerAPI", "ImageScanning", "SBOM", "VulnerabilityDB",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Kubernetes' CRI (runtime.v1) messages and services, generated by scripts/generate-cri.
        .target(name: "CRIProto", dependencies: [
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            .product(name: "GRPCCore", package: "grpc-swift-2"),
            .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
        ]),
        // SPDY/3.1 frames (Kubernetes' streaming protocols): the framer and its zlib header blocks.
        .target(name: "SPDY", dependencies: ["CaissonSys", "CZlib"]),
        // Pods for the kubelet: sandboxes, containers, CNI, CRI logs, exec, stats; the
        // runtime and image services of the CRI on top.
        .target(name: "CRIServer", dependencies: [
            "CRIProto", "Images", "ImageSpec", "Registry", "Engine", "Cgroups", "OCISpec", "CaissonSys", "CaissonJSON",
            "CaissonShim", "SPDY", "AttachProtocol",
            .product(name: "GRPCCore", package: "grpc-swift-2"),
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        ]),
        // The Docker Engine API (HTTP/1.1 on a unix socket, on SwiftNIO) over the engine.
        .target(name: "DockerAPI", dependencies: [
            "Engine", "Images", "ImageSpec", "CaissonJSON", "CaissonSys", "CLIFormatting", "Registry", "RegistryConfig",
            "ContainerHealth", "Cgroups", "LayerArchive", "Builder",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
        // The daemon: serves the CRI and the Docker Engine API on unix sockets.
        .executableTarget(
            name: "caissond",
            dependencies: [
                "CRIServer", "CaissonSys", "Registry", "DockerAPI", "Engine", "Images",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Helpers shared by the test targets: scratch directories, running programs.
        .target(name: "CaissonTestSupport", path: "Tests/Support"),
        .testTarget(
            name: "ImageTests",
            dependencies: ["Images", "Registry", "ImageSpec", "ContentStore", "LayerArchive", "CaissonSys", "CaissonJSON",
                           "OCISpec", "CaissonTestSupport", "CZstd", "CaissonShim", "Builder"]
        ),
        .testTarget(
            name: "EngineTests",
            dependencies: ["CaissonTestSupport"]
        ),
        .testTarget(
            name: "CRITests",
            dependencies: [
                "CaissonTestSupport", "CRIProto", "CRIServer", "SPDY", "CZlib",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
            ]
        ),
        .testTarget(
            name: "DockerAPITests",
            dependencies: ["CaissonTestSupport"]
        ),
        .testTarget(
            name: "DockerfileTests",
            dependencies: ["Dockerfile"]
        ),
        .testTarget(
            name: "SBOMTests",
            dependencies: ["SBOM", "CaissonSys", "CaissonJSON", "CaissonTestSupport"]
        ),
        .testTarget(
            name: "ScanTests",
            dependencies: ["CaissonTestSupport"]
        ),
        .testTarget(
            name: "VulnerabilityDBTests",
            dependencies: ["VulnerabilityDB", "CaissonTestSupport"]
        ),
        .testTarget(
            name: "PackageVersionsTests",
            dependencies: ["PackageVersions", "CaissonTestSupport"]
        ),
        .testTarget(
            name: "HealthTests",
            dependencies: ["ContainerHealth", "CaissonJSON"]
        ),
        .testTarget(
            name: "FormattingTests",
            dependencies: ["CLIFormatting", "CaissonJSON"]
        ),
        .testTarget(
            name: "RuntimeTests",
            dependencies: ["OCISpec", "CaissonSys", "Cgroups", "RuntimeCore", "CaissonShim", "CaissonJSON", "CaissonTestSupport", "CSeccomp"]
        ),
    ],
    swiftLanguageModes: [.v6]
)

// Fuzz targets (Fuzz/, run by scripts/fuzz): only with CAISSON_FUZZ=1, because they are
// libFuzzer entry points that link only when built with `-sanitize=fuzzer` (scripts/fuzz
// passes it, with the address sanitizer, to every module), so the normal build and
// `swift test` never see them.
if Context.environment["CAISSON_FUZZ"] == "1" {
    let entryPoint: [SwiftSetting] = [.unsafeFlags(["-parse-as-library"])]
    func fuzzTarget(_ name: String, _ dependencies: [Target.Dependency]) -> Target {
        .executableTarget(name: "fuzz-\(name)", dependencies: ["FuzzSupport"] + dependencies,
                          path: "Fuzz/Sources/\(name)", swiftSettings: entryPoint)
    }
    package.targets += [
        .target(name: "CFuzzDriver", path: "Fuzz/Sources/CFuzzDriver"),
        .target(name: "FuzzSupport", dependencies: ["CaissonSys", "CFuzzDriver"], path: "Fuzz/Sources/FuzzSupport"),
        fuzzTarget("json", ["CaissonJSON"]),
        fuzzTarget("config", ["OCISpec", "RuntimeCore", "CaissonJSON", "CaissonSys"]),
        fuzzTarget("image", ["ImageSpec", "CaissonJSON"]),
        fuzzTarget("registries", ["RegistryConfig", "ImageSpec", "CaissonSys"]),
        fuzzTarget("tar", ["LayerArchive"]),
        fuzzTarget("layer", ["LayerArchive", "CaissonSys", "ImageSpec"]),
        fuzzTarget("archive", ["Images", "CaissonSys"]),
        fuzzTarget("spdy", ["SPDY"]),
        fuzzTarget("format", ["CLIFormatting", "CaissonJSON"]),
        fuzzTarget("dockerfile", ["Dockerfile"]),
        fuzzTarget("versions", ["PackageVersions"]),
        fuzzTarget("dockerapi", ["DockerAPI", "Engine", "CaissonJSON"]),
    ]
}
