import CaissonJSON
import Foundation
import Images
import Testing

/// `caisson build` beside `buildah bud` on the same Dockerfiles and context: the same
/// root filesystem (paths, types, modes, owners, sizes, contents, link targets) and the
/// same config, apart from buildah's own label (`io.buildah.version`).
@Suite(.serialized, .timeLimit(.minutes(5)))
struct BuildahParityTests {
    static let dockerfiles: [(String, String)] = [
        ("run-workdir-copy", """
        FROM local/busybox:1
        RUN echo hello > /hello && mkdir -p /var/data && chmod 0700 /var/data
        WORKDIR /app
        COPY . .
        CMD ["cat", "/hello"]
        """),
        ("config", """
        FROM local/busybox:1
        ARG VERSION=1.2
        ENV APP_HOME=/srv/app VERSION=$VERSION
        LABEL org.example.version=$VERSION maintainer=someone
        EXPOSE 8080 53/udp
        VOLUME ["/data", "/cache"]
        USER 1000:1000
        STOPSIGNAL SIGTERM
        WORKDIR $APP_HOME
        ENTRYPOINT ["/bin/sh", "-c"]
        CMD ["echo $VERSION"]
        """),
        ("copy-rules", """
        FROM local/busybox:1
        COPY src /dest/
        COPY a.txt /files/
        COPY b.txt /files/renamed.txt
        COPY *.txt /globbed/
        COPY --chmod=0640 a.txt /modes/a.txt
        COPY --chown=1234:5678 src/ /owned/
        """),
        ("run-deletes", """
        FROM local/busybox:1
        RUN rm -rf /root && mkdir -p /opt/tool && echo v1 > /opt/tool/conf && ln -s /opt/tool/conf /etc/tool.conf
        RUN rm /opt/tool/conf && echo v2 > /opt/tool/conf2 && chown 42:42 /opt/tool/conf2 && chmod 4755 /opt/tool/conf2
        """),
        ("add-archive", """
        FROM local/busybox:1
        ADD files.tar.gz /opt/
        ADD a.txt /opt/a.txt
        """),
        ("multi-stage", """
        FROM local/busybox:1 AS build
        RUN mkdir /out && echo artefact > /out/result && echo scratch > /tmp/junk
        FROM local/busybox:1
        COPY --from=build /out/result /usr/share/result
        COPY --from=0 /out /copied-out
        """),
    ]

    /// A tree's observable content, one line per path (directory times left out).
    static func tree(_ root: String) throws -> [String] {
        var lines: [String] = []
        let enumerator = FileManager.default.enumerator(atPath: root)
        while let relative = enumerator?.nextObject() as? String {
            var info = stat()
            guard lstat(root + "/" + relative, &info) == 0 else { continue }
            var line = "/\(relative) \(String(info.st_mode, radix: 8)) \(info.st_uid):\(info.st_gid)"
            switch info.st_mode & S_IFMT {
            case S_IFREG:
                let data = try Data(contentsOf: URL(fileURLWithPath: root + "/" + relative))
                line += " \(data.count) \(String(decoding: data.prefix(64), as: UTF8.self).debugDescription)"
            case S_IFLNK:
                line += " -> " + (try FileManager.default.destinationOfSymbolicLink(atPath: root + "/" + relative))
            default:
                break
            }
            lines.append(line)
        }
        return lines.sorted()
    }

    static func config(_ json: [String: Any]) -> [String: String] {
        var result: [String: String] = [:]
        for key in ["Env", "Cmd", "Entrypoint", "WorkingDir", "User", "ExposedPorts", "Volumes", "Labels", "StopSignal"] {
            var value = json[key]
            if key == "Labels", var labels = value as? [String: Any] {
                labels.removeValue(forKey: "io.buildah.version")
                value = labels.isEmpty ? nil : labels
            }
            guard let value, !(value is NSNull) else { continue }
            let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed])
            result[key] = data.map { String(decoding: $0, as: UTF8.self) }
        }
        return result
    }

    @Test func caissonBuildMatchesBuildahBud() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/buildah") else { return }
        let cli = try CaissonCLI()
        defer { cli.cleanUp() }
        let work = try Scratch.directory("buildah-parity")
        let buildah = ["/usr/bin/buildah", "--root", work + "/broot", "--runroot", work + "/brun", "--storage-driver", "overlay"]
        defer {
            _ = try? Shell.run(buildah[0], Array(buildah.dropFirst()) + ["rm", "--all"])
            _ = try? Shell.run("/bin/sh", ["-c", "grep -o ' \(work)[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l"])
            try? FileManager.default.removeItem(atPath: work)
        }
        // One base image in both stores.
        try Shell.run("/bin/sh", ["-ec", "bash \(FileManager.default.currentDirectoryPath)/scripts/make-busybox-bundle \(work)/bb >/dev/null && tar -C \(work)/bb/rootfs -cf \(work)/bb.tar ."])
        #expect(try cli.run(["import", work + "/bb.tar", "local/busybox:1"]).status == 0)
        #expect(try cli.run(["save", "-o", work + "/bb-archive.tar", "local/busybox:1"]).status == 0)
        let pulled = try Shell.run(buildah[0], Array(buildah.dropFirst()) + ["pull", "-q", "docker-archive:" + work + "/bb-archive.tar"])
        #expect(pulled.status == 0, "\(pulled.stderr)")

        let context = work + "/context"
        try Shell.run("/bin/sh", ["-ec", """
            mkdir -p \(context)/src/sub && cd \(context)
            echo main > src/main.c; echo util > src/sub/util.c; ln -s main.c src/link
            echo a > a.txt; echo b > b.txt; chmod 0751 b.txt; echo secret > secret.key
            printf '*.key\\n' > .dockerignore
            mkdir -p tree/x && echo inside > tree/x/y && chmod 0600 tree/x/y && tar -C tree -czf files.tar.gz .
            """])
        for (name, dockerfile) in Self.dockerfiles {
            try dockerfile.write(toFile: context + "/Dockerfile", atomically: true, encoding: .utf8)
            let tag = "local/parity-\(name):1"
            let ours = try cli.run(["build", "-q", "-t", tag, context])
            #expect(ours.status == 0, "\(name): \(ours.stderr)")
            let theirs = try Shell.run(buildah[0], Array(buildah.dropFirst()) + ["bud", "-q", "--pull=never", "--runtime", "runc",
                                                                                  "--isolation", "oci", "-t", tag, context], timeout: 120)
            #expect(theirs.status == 0, "\(name): \(theirs.stderr)")

            // Root filesystems.
            let service = try ImageService(ImageStoreOptions(root: cli.root + "/store", registriesConf: cli.registriesConf))
            let target = work + "/ours-\(name)"
            try service.mountRootfs(try service.resolve(tag), id: "parity-\(name)", target: target)
            defer { try? service.unmountRootfs(id: "parity-\(name)", target: target) }
            let container = try Shell.run(buildah[0], Array(buildah.dropFirst()) + ["from", "--pull=never", tag])
            let mount = try Shell.run(buildah[0], Array(buildah.dropFirst()) + ["mount", container.stdout.trimmingCharacters(in: .whitespacesAndNewlines)])
            let theirRoot = mount.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            // buildah leaves its RUN mount points (empty /etc/hostname, /etc/hosts,
            // /etc/resolv.conf and /run) in the image; caisson leaves them out, as BuildKit does.
            let stubs: Set<String> = ["/etc/hostname 100755 0:0 0 \"\"", "/etc/hosts 100755 0:0 0 \"\"",
                                      "/etc/resolv.conf 100755 0:0 0 \"\"", "/run 40755 0:0"]
            let ourTree = try Self.tree(target)
            let theirTree = try Self.tree(theirRoot).filter { !stubs.contains($0) || ourTree.contains($0) }
            #expect(ourTree == theirTree, "\(name): only caisson's: \(Set(ourTree).subtracting(theirTree).sorted()); only buildah's: \(Set(theirTree).subtracting(ourTree).sorted())")

            // Configs.
            let ourConfig = try cli.run(["image", "inspect", tag])
            let theirConfig = try Shell.run(buildah[0], Array(buildah.dropFirst()) + ["inspect", "--type", "image", tag])
            let ourJSON = (try JSONSerialization.jsonObject(with: Data(ourConfig.stdout.utf8)) as? [[String: Any]])?.first?["Config"] as? [String: Any] ?? [:]
            let theirJSON = ((try JSONSerialization.jsonObject(with: Data(theirConfig.stdout.utf8)) as? [String: Any])?["OCIv1"] as? [String: Any])?["config"] as? [String: Any] ?? [:]
            #expect(Self.config(ourJSON) == Self.config(theirJSON), "\(name): configs differ")
        }
    }
}
