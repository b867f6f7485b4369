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

let package = Package(
    name: "caisson",
    products: [
        .executable(name: "caisson-runtime", targets: ["caisson-runtime"]),
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
        // OCI runtime-spec types (config.json, state, features) and their validation.
        .target(name: "OCISpec", dependencies: ["CaissonSys", "CaissonJSON"]),
        // cgroup v1, v2 and hybrid managers.
        .target(name: "Cgroups", dependencies: ["CaissonSys", "OCISpec", "CaissonShim"]),
        // Container lifecycle: state store, process creation, rootfs, security, hooks.
        .target(name: "RuntimeCore", dependencies: ["CaissonSys", "CaissonJSON", "OCISpec", "Cgroups", "CSeccomp", "CaissonShim"]),
        .executableTarget(
            name: "caisson-runtime",
            dependencies: ["RuntimeCore", "OCISpec", "CaissonSys", "Cgroups"],
            linkerSettings: staticRuntimeLinking
        ),
        .testTarget(
            name: "RuntimeTests",
            dependencies: ["OCISpec", "CaissonSys", "Cgroups", "RuntimeCore", "CaissonShim", "CaissonJSON"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
