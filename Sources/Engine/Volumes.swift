/// A named volume: a directory under `ROOT/volumes/NAME/_data` that outlives containers.
public struct VolumeRecord: Codable, Sendable, Equatable {
    public var name: String
    public var driver: String
    public var mountpoint: String
    public var created: String
    public var labels: [String: String] = [:]
}
