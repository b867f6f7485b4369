import Foundation

/// Where the package's own executables (caisson, caissond, caisson-monitor,
/// caisson-runtime) were built: the directory above the test binary that holds them.
public enum BuiltBinaries {
    public static let directory: String = {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        var directory = (exe as NSString).deletingLastPathComponent
        while !directory.isEmpty && directory != "/" {
            if FileManager.default.isExecutableFile(atPath: directory + "/caissond") { return directory }
            directory = (directory as NSString).deletingLastPathComponent
        }
        return "/work/main/.build/debug"
    }()
}
