/// Facts about this build that the command line reports.
public enum RuntimeInfo {
    public static func libseccompVersion() -> String { SeccompFilter.libraryVersion() }
}
