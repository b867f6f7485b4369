// swift-tools-version: 6.0
import PackageDescription

/// `caisson-runtime` is on the container start-up hot path: it links the Swift
/// standard library and FoundationEssentials statically (no Foundation, so no ICU
/// is loaded) and stays single-threaded so that it may clone like crun does.
let staticRuntimeLinking: [LinkerSetting] = [
    .unsafeFlags([
        "-static-stdlib",
        "-Xlinker", "-l_FoundationCShims",
        "-Xlinker", "-l_FoundationCollections",
        "-Xlinker", "-lswiftSynchronization",
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
        // OCI runtime-spec types (config.json, state, features) and their validation.
        .target(name: "OCISpec", dependencies: ["CaissonSys"]),
        // cgroup v1, v2 and hybrid managers.
        .target(name: "Cgroups", dependencies: ["CaissonSys", "OCISpec", "CaissonShim"]),
        // Container lifecycle: state store, process creation, rootfs, security, hooks.
        .target(name: "RuntimeCore", dependencies: ["CaissonSys", "OCISpec", "Cgroups", "CSeccomp", "CaissonShim"]),
        .executableTarget(
            name: "caisson-runtime",
            dependencies: ["RuntimeCore", "OCISpec", "CaissonSys", "Cgroups"],
            linkerSettings: staticRuntimeLinking
        ),
        .testTarget(
            name: "RuntimeTests",
            dependencies: ["OCISpec", "CaissonSys", "Cgroups", "RuntimeCore", "CaissonShim"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
