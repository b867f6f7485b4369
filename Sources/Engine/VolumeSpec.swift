import CaissonSys

extension MountRequest {
    /// `SOURCE:DEST[:ro|rw]`; SOURCE is a host path (absolute or ./) or a volume name.
    /// A lone `DEST` is an anonymous volume (its name is chosen at create).
    public static func parseVolume(_ text: String) throws(EngineError) -> MountRequest {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        if parts.count == 1, text.hasPrefix("/") {
            return MountRequest(kind: .volume, source: "", destination: text)
        }
        guard parts.count == 2 || parts.count == 3, !parts[0].isEmpty, parts[1].hasPrefix("/") else {
            throw .invalid("invalid volume specification: '\(text)'")
        }
        var readOnly = false
        if parts.count == 3 {
            let options = parts[2].split(separator: ",")
            guard options.allSatisfy({ ["ro", "rw", "z", "Z"].contains($0) }) else {
                throw .invalid("invalid mode: \(parts[2])")
            }
            readOnly = options.contains("ro")
        }
        if parts[0].hasPrefix("/") || parts[0].hasPrefix(".") {
            return MountRequest(kind: .bind, source: Paths.absolute(parts[0]), destination: parts[1], readOnly: readOnly)
        }
        return MountRequest(kind: .volume, source: parts[0], destination: parts[1], readOnly: readOnly)
    }
}
