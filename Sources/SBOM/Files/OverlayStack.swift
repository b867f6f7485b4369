import CaissonSys

/// Unpacked layer directories merged the way overlayfs merges them, read without
/// mounting anything: the topmost layer that names a path decides what it is, a
/// whiteout deletes it, an opaque directory hides the directories below it, and a
/// non-directory hides everything below it at and under its path. Symbolic links are
/// never followed: every directory a lookup goes through is checked to be a real
/// directory of its layer first.
struct OverlayStack: Sendable {
    struct Layer: Sendable {
        let diffID: String?
        let root: String
    }

    /// The entry the merged view shows at a path, and the layer it comes from.
    struct Visible {
        let layer: Int
        let entry: LayerEntry
        let hostPath: String
    }

    /// Topmost first.
    let layers: [Layer]

    init(topmostFirst layers: [Layer]) {
        self.layers = layers.map { Layer(diffID: $0.diffID, root: $0.root.count > 1 && $0.root.hasSuffix("/") ? String($0.root.dropLast()) : $0.root) }
    }

    func hostPath(_ layer: Int, _ path: String) -> String {
        path == "/" ? layers[layer].root : layers[layer].root + path
    }

    /// Layers whose root directory is part of the merged root: all, down to the first
    /// whose root is opaque.
    var rootLayers: [Int] {
        var result: [Int] = []
        for index in layers.indices {
            result.append(index)
            if LayerEntry.isOpaque(layers[index].root) { break }
        }
        return result
    }

    /// The layers (topmost first) whose directories at `path` make up the merged
    /// directory there, or nil where the merged view has no directory at `path`.
    func directoryLayers(_ path: String) -> [Int]? {
        var current = rootLayers
        var prefix = ""
        for component in Paths.clean(path).split(separator: "/") {
            prefix += "/" + component
            guard let next = merge(current[...], at: prefix, required: true) else { return nil }
            current = next
        }
        return current
    }

    /// Of `candidates` (topmost first, each with a directory at the parent of `path`),
    /// those whose directory at `path` joins the merged one: down to the first opaque
    /// one, and not past a layer holding anything else there. With `required`, nil
    /// where the topmost layer naming `path` holds no directory.
    private func merge(_ candidates: ArraySlice<Int>, at path: String, required: Bool) -> [Int]? {
        var result: [Int] = []
        for index in candidates {
            switch LayerEntry.probe(hostPath(index, path)) {
            case .absent:
                continue
            case .directory(let opaque):
                result.append(index)
                if opaque { return result }
            default:
                return result.isEmpty && required ? nil : result
            }
        }
        return result.isEmpty && required ? nil : result
    }

    func entry(_ path: String) -> Visible? {
        let clean = Paths.clean(path)
        if clean == "/" {
            guard let top = rootLayers.first else { return nil }
            return Visible(layer: top, entry: .directory(opaque: false), hostPath: hostPath(top, "/"))
        }
        guard let parent = directoryLayers(Paths.parent(clean)) else { return nil }
        for index in parent {
            let entry = LayerEntry.probe(hostPath(index, clean))
            switch entry {
            case .absent: continue
            case .whiteout: return nil
            default: return Visible(layer: index, entry: entry, hostPath: hostPath(index, clean))
            }
        }
        return nil
    }

    /// The visible names in the merged directory at `path`, sorted.
    func list(_ path: String) -> [String]? {
        let clean = Paths.clean(path)
        guard let directory = directoryLayers(clean) else { return nil }
        return mergedNames(clean, directory).compactMap { item in
            item.entry.isWhiteout ? nil : item.name
        }
    }

    /// Whether the layer's own directory changes what the view shows at `path`: it
    /// holds an entry there, or an opaque directory or a non-directory above it.
    func layerChanges(_ layer: Int, _ path: String) -> Bool {
        if LayerEntry.isOpaque(layers[layer].root) { return true }
        var prefix = ""
        let components = Paths.clean(path).split(separator: "/")
        for (offset, component) in components.enumerated() {
            prefix += "/" + component
            let entry = LayerEntry.probe(hostPath(layer, prefix))
            if offset == components.count - 1 { return !entry.isAbsent }
            switch entry {
            case .absent: return false
            case .directory(let opaque): if opaque { return true }
            default: return true
            }
        }
        return false
    }

    func walk(_ visit: (ImageFileEntry) throws -> Void) rethrows {
        try walkDirectory("/", rootLayers, visit)
    }

    private func walkDirectory(_ path: String, _ directory: [Int], _ visit: (ImageFileEntry) throws -> Void) rethrows {
        for item in mergedNames(path, directory) {
            let child = path == "/" ? "/" + item.name : path + "/" + item.name
            let layer = directory[item.position]
            switch item.entry {
            case .regular(let mode, let size):
                try visit(ImageFileEntry(path: child, mode: mode, size: size, layer: layers[layer].diffID))
            case .directory(let opaque):
                let below = opaque ? [] : (merge(directory[(item.position + 1)...], at: child, required: false) ?? [])
                try walkDirectory(child, [layer] + below, visit)
            default:
                continue
            }
        }
    }

    private struct MergedName {
        let name: String
        /// Index into the directory's layer list of the topmost layer naming it.
        let position: Int
        let entry: LayerEntry
    }

    /// Every name the directory's layers hold, each with the topmost layer's entry
    /// (whiteouts included), sorted by name.
    private func mergedNames(_ path: String, _ directory: [Int]) -> [MergedName] {
        var seen: Set<String> = []
        var result: [MergedName] = []
        for (position, layer) in directory.enumerated() {
            let base = hostPath(layer, path)
            for name in (try? Files.listDirectory(base)) ?? [] where seen.insert(name).inserted {
                let entry = LayerEntry.probe(base == "/" ? "/" + name : base + "/" + name)
                if entry.isAbsent { continue }
                result.append(MergedName(name: name, position: position, entry: entry))
            }
        }
        return result.sorted { $0.name < $1.name }
    }
}

extension LayerEntry {
    var isAbsent: Bool {
        if case .absent = self { return true }
        return false
    }

    var isWhiteout: Bool {
        if case .whiteout = self { return true }
        return false
    }
}

/// The file reads both views share.
extension OverlayStack {
    func regularHostPath(_ path: String) -> String? {
        guard let visible = entry(path), case .regular = visible.entry else { return nil }
        return visible.hostPath
    }

    func contents(_ path: String, limit: Int) -> [UInt8]? {
        regularHostPath(path).flatMap { HostFileReader.contents($0, limit: limit) }
    }

    func read(_ path: String, offset: Int, count: Int) -> [UInt8]? {
        regularHostPath(path).flatMap { HostFileReader.read($0, offset: offset, count: count) }
    }

    func symlinkTarget(_ path: String) -> String? {
        guard let visible = entry(path), case .symlink = visible.entry else { return nil }
        return HostFileReader.linkTarget(visible.hostPath)
    }
}
