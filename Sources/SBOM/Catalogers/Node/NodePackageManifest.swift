import CaissonJSON

/// What a catalog takes from an installed package's `package.json`: name, version and
/// license (`"license": "MIT"`, the older `{"type": "MIT"}`, or a `licenses` array).
struct NodePackageManifest {
    var name: String
    var version: String
    var licenses: [String]

    /// nil where the file names no package (a `package.json` without name or version
    /// only sets options for the files beside it).
    init?(_ json: JSONValue) {
        guard case .object(let object) = json,
              case .string(let name)? = object["name"], !name.isEmpty,
              case .string(let version)? = object["version"], !version.isEmpty else { return nil }
        self.name = name
        self.version = version
        licenses = NodePackageManifest.licenses(object)
    }

    static func licenses(_ object: JSONObject) -> [String] {
        func name(_ value: JSONValue) -> String? {
            switch value {
            case .string(let text): return text.isEmpty ? nil : text
            case .object(let inner): if case .string(let type)? = inner["type"], !type.isEmpty { return type }
            default: break
            }
            return nil
        }
        if let license = object["license"], let text = name(license) { return [text] }
        if case .array(let list)? = object["licenses"] { return list.compactMap(name) }
        return []
    }
}

/// One package a `package-lock.json` records: where npm installs it (relative to the
/// lock file's directory: `node_modules/a/node_modules/@s/b`), its name and version.
struct NodeLockEntry: Hashable {
    var installPath: String
    var name: String
    var version: String
    var licenses: [String]
}

/// `package-lock.json` in its three versions: lockfileVersion 2 and 3 list packages by
/// install path under `packages` (the "" entry is the project itself; `link` entries
/// are symlinks to workspace folders), version 1 nests `dependencies` by name.
/// Development-only packages (`"dev": true`) are left out: `npm ci --omit=dev` leaves
/// them in the lock file but not in the image.
enum NodePackageLock {
    static func entries(_ json: JSONValue) throws(NodeLockError) -> [NodeLockEntry] {
        guard case .object(let root) = json else { throw .notAnObject }
        if case .object(let packages)? = root["packages"] {
            return packages.keys.compactMap { key -> NodeLockEntry? in
                guard let installedName = NodeModulesPath.nameAfterLastNodeModules(key),
                      case .object(let entry)? = packages[key],
                      entry["link"] != .bool(true), entry["dev"] != .bool(true),
                      case .string(let version)? = entry["version"], !version.isEmpty else { return nil }
                var name = installedName
                if case .string(let declared)? = entry["name"], !declared.isEmpty { name = declared }
                return NodeLockEntry(installPath: key, name: name, version: version, licenses: NodePackageManifest.licenses(entry))
            }
        }
        guard case .object(let dependencies)? = root["dependencies"] else {
            if root["lockfileVersion"] == nil { throw .noLockfileVersion }
            return []
        }
        var result: [NodeLockEntry] = []
        collect(dependencies, under: "", into: &result)
        return result
    }

    private static func collect(_ dependencies: JSONObject, under parent: String, into result: inout [NodeLockEntry]) {
        for name in dependencies.keys {
            guard case .object(let entry)? = dependencies[name] else { continue }
            let path = (parent.isEmpty ? "" : parent + "/") + "node_modules/" + name
            if entry["dev"] != .bool(true), case .string(let version)? = entry["version"], !version.isEmpty {
                result.append(NodeLockEntry(installPath: path, name: name, version: version, licenses: []))
            }
            if case .object(let nested)? = entry["dependencies"] { collect(nested, under: path, into: &result) }
        }
    }
}

/// Why a lock file cannot be read.
enum NodeLockError: Error, CustomStringConvertible {
    case notAnObject
    case noLockfileVersion

    var description: String {
        switch self {
        case .notAnObject: return "the lock file is not a JSON object"
        case .noLockfileVersion: return "no lockfileVersion, packages or dependencies"
        }
    }
}
