import CaissonJSON
import CaissonShim
import Foundation
import Images
import Testing

/// `caisson build` beside `buildah bud` on the same Dockerfiles and context: the same
/// root filesystem (paths, types, modes, owners, sizes, link counts, contents, link
/// targets, xattrs) and the same config, apart from buildah's own label
/// (`io.buildah.version`) and the differences README.md documents.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct BuildahParityTests {
    /// One Dockerfile built by both.
    struct Case: Sendable {
        var name: String
        var dockerfile: String
        /// Options given to both builders (`--build-arg`).
        var arguments: [String] = []
        /// What buildah 1.28 builds instead, where it predates the syntax (heredocs,
        /// `RUN --network`, `COPY --link`): the equivalent BuildKit documents.
        var buildahDockerfile: String?
        var buildahArguments: [String] = []
        /// Whether to compare root filesystems (`buildah from` runs ONBUILD triggers).
        var compareTree = true
        /// Paths left out of the comparison, where buildah differs from BuildKit (README.md).
        var unchecked: Set<String> = []

        init(_ name: String, _ dockerfile: String, arguments: [String] = [], buildahDockerfile: String? = nil,
             buildahArguments: [String] = [], compareTree: Bool = true, unchecked: Set<String> = []) {
            self.name = name
            self.dockerfile = dockerfile
            self.arguments = arguments
            self.buildahDockerfile = buildahDockerfile
            self.buildahArguments = buildahArguments
            self.compareTree = compareTree
            self.unchecked = unchecked
        }
    }

    static let addUser = #"RUN echo 'app:x:1001:2002:app:/home/app:/bin/sh' >> /etc/passwd && echo 'appgrp:x:2002:' >> /etc/group"#

    static let cases: [Case] = [
        Case("run-workdir-copy", """
        FROM local/busybox:1
        RUN echo hello > /hello && mkdir -p /var/data && chmod 0700 /var/data
        WORKDIR /app
        COPY . .
        CMD ["cat", "/hello"]
        """),
        Case("config", """
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
        Case("copy-rules", """
        FROM local/busybox:1
        COPY src /dest/
        COPY a.txt /files/
        COPY b.txt /files/renamed.txt
        COPY *.txt /globbed/
        COPY --chmod=0640 a.txt /modes/a.txt
        COPY --chown=1234:5678 src/ /owned/
        """),
        Case("run-deletes", """
        FROM local/busybox:1
        RUN rm -rf /root && mkdir -p /opt/tool && echo v1 > /opt/tool/conf && ln -s /opt/tool/conf /etc/tool.conf
        RUN rm /opt/tool/conf && echo v2 > /opt/tool/conf2 && chown 42:42 /opt/tool/conf2 && chmod 4755 /opt/tool/conf2
        """),
        Case("add-archive", """
        FROM local/busybox:1
        ADD files.tar.gz /opt/
        ADD a.txt /opt/a.txt
        """),
        Case("multi-stage", """
        FROM local/busybox:1 AS build
        RUN mkdir /out && echo artefact > /out/result && echo scratch > /tmp/junk
        FROM local/busybox:1
        COPY --from=build /out/result /usr/share/result
        COPY --from=0 /out /copied-out
        """),
        Case("from-scratch", """
        FROM local/busybox:1 AS tools
        RUN mkdir -p /out/etc /out/bin && echo 'root:x:0:0::/:/bin/sh' > /out/etc/passwd && cp /bin/busybox /out/bin/
        FROM scratch
        COPY --from=tools /out/ /
        ENTRYPOINT ["/bin/busybox"]
        """),
        Case("stage-chain", """
        FROM local/busybox:1 AS base
        ENV STAGE=base
        RUN echo base > /base
        FROM base AS middle
        RUN echo middle >> /base && echo $STAGE > /stage
        FROM middle
        LABEL final=yes
        """),
        Case("entrypoint-resets-cmd", """
        FROM local/busybox:1 AS base
        CMD ["base-cmd"]
        FROM base AS with-entrypoint
        ENTRYPOINT ["/bin/sh"]
        FROM with-entrypoint
        CMD own command
        ENTRYPOINT /bin/echo kept
        """),
        Case("arg-scoping", """
        ARG BASE=local/busybox:1
        ARG GLOBAL=global-default
        FROM $BASE
        ARG GLOBAL
        ARG LOCAL=local-default
        ARG GIVEN=unset
        ARG UNDECLARED
        RUN echo "$GLOBAL $LOCAL $GIVEN ${UNDECLARED:-none} ${BASE:-no-base}" > /args
        ENV FROM_ARG=$GIVEN LOCAL=env-wins
        RUN echo "$LOCAL" > /env-wins
        LABEL local=$LOCAL given=$GIVEN
        """, arguments: ["--build-arg", "GIVEN=given", "--build-arg", "GLOBAL=cli-global"]),
        Case("substitution", """
        FROM local/busybox:1
        ENV SET=value EMPTY=
        ENV A=${SET:-default} B=${UNSET:-default} C=${SET:+alt} D=${UNSET:+alt} E=${EMPTY:-dflt} F=${EMPTY:+alt}
        ENV G=\\$SET H="${SET}-suffix" I='$SET' J=$SET$SET
        WORKDIR /${SET}
        LABEL l1=${SET:+yes} l2="${UNSET:-no} x"
        COPY a.txt /${SET:+copied}/${UNSET:-default}.txt
        """),
        // Under `# escape=``, buildah 1.28 still takes `\` as the escape in ENV values
        // (C:\dir becomes C:dir); BuildKit uses the directive's character. buildah gets `\\`.
        Case("escape-directive", """
        # escape=`
        FROM local/busybox:1
        RUN echo one `
            two > /escaped
        ENV WINPATH=C:\\dir\\sub
        COPY a.txt `
             /backtick/
        """, buildahDockerfile: """
        # escape=`
        FROM local/busybox:1
        RUN echo one `
            two > /escaped
        ENV WINPATH=C:\\\\dir\\\\sub
        COPY a.txt `
             /backtick/
        """),
        Case("continuations", """
        FROM local/busybox:1
        RUN echo first \\
        # a comment inside
            second \\

            third > /joined
        LABEL a=1 \\
              b=2
        ENV LONG="x \\
        y"
        """),
        // SHELL applies to the shell form of CMD too (Dockerfile reference); buildah 1.28
        // keeps /bin/sh -c there, so it is given the exec form BuildKit writes.
        Case("run-forms-shell", """
        FROM local/busybox:1
        RUN ["/bin/sh", "-c", "echo exec > /exec"]
        RUN ["touch", "/touched"]
        SHELL ["/bin/sh", "-ec"]
        RUN echo shell > /shell
        CMD echo from shell form
        """, buildahDockerfile: """
        FROM local/busybox:1
        RUN ["/bin/sh", "-c", "echo exec > /exec"]
        RUN ["touch", "/touched"]
        SHELL ["/bin/sh", "-ec"]
        RUN echo shell > /shell
        CMD ["/bin/sh", "-ec", "echo from shell form"]
        """),
        Case("healthcheck", """
        FROM local/busybox:1
        HEALTHCHECK --interval=5s --timeout=3s --start-period=2s --retries=4 CMD wget -q -O- localhost || exit 1
        """),
        Case("healthcheck-none", """
        FROM local/busybox:1 AS probed
        HEALTHCHECK CMD ["true"]
        FROM probed
        HEALTHCHECK NONE
        """),
        // Config only: `buildah from` runs the image's triggers.
        Case("onbuild-base", """
        FROM local/busybox:1
        RUN mkdir /app
        ONBUILD COPY a.txt /app/
        ONBUILD RUN echo triggered > /app/trigger
        ONBUILD ENV TRIGGERED=yes
        """, compareTree: false),
        Case("onbuild-child", """
        FROM local/parity-onbuild-base:1
        RUN cat /app/trigger > /app/seen
        """),
        Case("user-workdir", """
        FROM local/busybox:1
        \(addUser)
        USER app
        WORKDIR /home/app
        WORKDIR work/nested
        # Not `id`: buildah adds the primary group as a supplementary one; BuildKit does not.
        RUN touch mine && echo "$(id -u):$(id -g)" > ids
        USER 1001:2002
        WORKDIR ../other
        """),
        Case("chown-chmod", """
        FROM local/busybox:1
        \(addUser)
        COPY --chown=app a.txt /o/by-user
        COPY --chown=app:appgrp a.txt /o/by-names
        COPY --chown=1001 a.txt /o/by-uid
        COPY --chown=7:8 src /o/numeric/
        COPY --chown=nobody:nogroup --chmod=0600 b.txt /o/both
        COPY --chmod=0750 src /o/dir-modes/
        ADD --chmod=0640 b.txt /o/added
        """),
        Case("copy-link", """
        FROM local/busybox:1
        COPY --link a.txt /linked/
        COPY --link --chown=3:4 src /linked-src/
        """, buildahDockerfile: """
        FROM local/busybox:1
        COPY a.txt /linked/
        COPY --chown=3:4 src /linked-src/
        """),
        Case("dockerignore", """
        FROM local/busybox:1
        COPY . /ctx/
        COPY *.key /keys/
        COPY docs /docs/
        """),
        Case("copy-destinations", """
        FROM local/busybox:1
        RUN mkdir /existing
        COPY a.txt /existing
        COPY src /newdir-noslash
        COPY src/main.c src/sub /multi/
        COPY src/sub/ /sub-slash
        COPY src/link /followed
        COPY ./a.txt relative.txt
        WORKDIR /w
        COPY b.txt .
        COPY b.txt sub/
        COPY empty ./
        """),
        Case("heredocs", """
        FROM local/busybox:1
        ARG NAME=world
        RUN <<EOF
        set -e
        mkdir /hd
        echo "hello $NAME" > /hd/script
        EOF
        RUN cat <<EOF > /hd/cat
        line one
        $NAME
        EOF
        COPY <<EOF /hd/copied
        copied ${NAME}
        EOF
        """, buildahDockerfile: """
        FROM local/busybox:1
        ARG NAME=world
        RUN set -e; mkdir /hd; echo "hello $NAME" > /hd/script
        RUN printf 'line one\\n%s\\n' "$NAME" > /hd/cat
        COPY heredoc-copied /hd/copied
        """),
        // buildah 1.28 leaves the parents it made for a mount target (/var/cache of
        // /var/cache/app); BuildKit removes them with the target.
        Case("run-mounts", """
        FROM local/busybox:1
        RUN --mount=type=cache,target=/cache echo cached > /cache/f && cat /cache/f > /cache-seen
        RUN --mount=type=cache,id=shared,target=/var/cache/app --mount=type=tmpfs,target=/scratch echo t > /scratch/t && ls /scratch > /tmpfs-list
        """, unchecked: ["/var", "/var/cache"]),
        Case("network-none", """
        FROM local/busybox:1
        RUN --network=none cat /proc/net/dev | cut -d: -f1 | tr -d ' ' > /interfaces
        """, buildahDockerfile: """
        FROM local/busybox:1
        RUN cat /proc/net/dev | cut -d: -f1 | tr -d ' ' > /interfaces
        """, buildahArguments: ["--network", "none"]),
        Case("whiteouts-opaque", """
        FROM local/busybox:1
        RUN mkdir -p /opt/app/sub && echo 1 > /opt/app/one && echo 2 > /opt/app/sub/two && echo keep > /opt/keep && mkdir /gone && touch /gone/x
        RUN rm -rf /opt/app /gone /bin/vi && mkdir /opt/app && echo new > /opt/app/fresh
        """),
        Case("file-directory-swaps", """
        FROM local/busybox:1
        RUN echo file > /swap && mkdir -p /dir2file/sub && touch /dir2file/sub/x
        RUN rm /swap && mkdir /swap && echo inner > /swap/inner && rm -rf /dir2file && echo now-a-file > /dir2file
        """),
        // All links to /sp/real/f made in one RUN: buildah bud (without --layers) runs every
        // step in one container, where a later RUN's link to it would not be split by
        // overlayfs's copy-up as it is across layers (BuildKit, caisson).
        Case("special-files", """
        FROM local/busybox:1
        RUN mkdir -p /sp/real && echo data > /sp/real/f && ln /sp/real/f /sp/hard && ln -s real /sp/dirlink && ln -s /sp/real /sp/abslink && mkfifo /sp/fifo && touch /sp/empty && echo x > /sp/suid && chmod 4755 /sp/suid && chmod 2755 /sp/real && mkdir /sp/sticky && chmod 1777 /sp/sticky && ln -s missing /sp/dangling && ln /sp/real/f /sp/third
        RUN ln /etc/passwd /sp/hard-to-lower
        COPY a.txt /sp/dirlink/
        """),
        Case("context-links-xattrs", """
        FROM local/busybox:1
        COPY linked /linked/
        COPY attr.txt empty /meta/
        """),
        // An archive's `./` entry: Docker and BuildKit skip it, so the destination keeps its
        // owner and mode; buildah applies it (7:8 here).
        Case("add-archives", """
        FROM local/busybox:1
        ADD plain.tar /plain/
        ADD files.tar.gz plain.tar /both/
        RUN mkdir /existing && echo old > /existing/keep
        ADD plain.tar /existing
        """, unchecked: ["/plain", "/both", "/existing"]),
        Case("maintainer-metadata", """
        FROM local/busybox:1
        MAINTAINER Jane Doe <jane@example.com>
        EXPOSE 80 443/tcp 8000-8002/udp
        VOLUME /var/lib/data /logs
        LABEL "com.example.quoted"="a value" multi.word="one two" empty=""
        STOPSIGNAL 9
        ENV LEGACY value with spaces
        """),
    ]

    /// A tree's observable content, one line per path (directory times left out).
    static func tree(_ root: String) throws -> [String] {
        var lines: [String] = []
        let enumerator = FileManager.default.enumerator(atPath: root)
        while let relative = enumerator?.nextObject() as? String {
            let path = root + "/" + relative
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            var line = "/\(relative) \(String(info.st_mode, radix: 8)) \(info.st_uid):\(info.st_gid)"
            switch info.st_mode & S_IFMT {
            case S_IFREG:
                let data = try Data(contentsOf: URL(fileURLWithPath: path))
                line += " \(data.count) \(String(decoding: data.prefix(64), as: UTF8.self).debugDescription)"
                if info.st_nlink > 1 { line += " links=\(info.st_nlink)" }
            case S_IFLNK:
                line += " -> " + (try FileManager.default.destinationOfSymbolicLink(atPath: path))
            default:
                break
            }
            lines.append(line + attributes(path))
        }
        return lines.sorted()
    }

    /// A path's extended attributes, as ` name=value...` (empty when it has none).
    static func attributes(_ path: String) -> String {
        var names = [CChar](repeating: 0, count: 4096)
        let length = llistxattr(path, &names, names.count)
        guard length > 0 else { return "" }
        var result = ""
        for name in names[0..<length].split(separator: 0).map({ String(decoding: $0.map { UInt8(bitPattern: $0) }, as: UTF8.self) }).sorted() {
            var value = [UInt8](repeating: 0, count: 4096)
            let count = lgetxattr(path, name, &value, value.count)
            result += " \(name)=\(String(decoding: value.prefix(max(count, 0)), as: UTF8.self).debugDescription)"
        }
        return result
    }

    /// The compared part of a config. Empty values count as unset (buildah's Docker config
    /// writes `[]` and `{}` where the OCI config leaves the key out).
    static func config(_ json: [String: Any]) -> [String: String] {
        var result: [String: String] = [:]
        for key in ["Env", "Cmd", "Entrypoint", "WorkingDir", "User", "ExposedPorts", "Volumes", "Labels", "StopSignal",
                    "Healthcheck", "OnBuild", "Shell"] {
            var value = json[key]
            // buildah 1.28 keeps a range (`8000-8002/udp`) as one entry; docker and BuildKit
            // list each port of it (documented in README).
            if key == "ExposedPorts", let ports = value as? [String: Any] {
                var expanded: [String: Any] = [:]
                for port in ports.keys {
                    let parts = port.split(separator: "/")
                    let range = parts[0].split(separator: "-").compactMap { Int($0) }
                    if range.count == 2 {
                        for number in range[0]...range[1] { expanded["\(number)/\(parts.count > 1 ? parts[1] : "tcp")"] = [String: Any]() }
                    } else {
                        expanded[port] = ports[port]
                    }
                }
                value = expanded
            }
            if key == "Labels", var labels = value as? [String: Any] {
                labels.removeValue(forKey: "io.buildah.version")
                value = labels
            }
            guard let value, !(value is NSNull) else { continue }
            if let list = value as? [Any], list.isEmpty { continue }
            if let object = value as? [String: Any], object.isEmpty { continue }
            if let string = value as? String, string.isEmpty { continue }
            let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed])
            result[key] = data.map { String(decoding: $0, as: UTF8.self) }
        }
        return result
    }

    /// The context every Dockerfile builds from.
    static func makeContext(_ context: String) throws {
        try Shell.run("/bin/sh", ["-ec", """
            mkdir -p \(context)/src/sub && cd \(context)
            echo main > src/main.c; echo util > src/sub/util.c; ln -s main.c src/link
            echo a > a.txt; echo b > b.txt; chmod 0751 b.txt; echo secret > secret.key; echo public > public.key
            : > empty; printf 'copied world\\n' > heredoc-copied; chmod 0644 heredoc-copied
            mkdir docs && echo keep > docs/keep.md && echo drop > docs/drop.md
            mkdir linked && echo same > linked/one && ln linked/one linked/two && echo other > linked/three
            echo attributes > attr.txt
            printf '*.key\\n!public.key\\ndocs\\n!docs/keep.md\\n' > .dockerignore
            mkdir -p tree/x && echo inside > tree/x/y && chmod 0600 tree/x/y && tar -C tree -czf files.tar.gz .
            mkdir -p plain/p && echo plain > plain/p/file && ln -s file plain/p/link && tar -C plain --owner=7 --group=8 -cf plain.tar .
            """])
        let set = setxattr(context + "/attr.txt", "user.parity", "yes", 3, 0)
        #expect(set == 0, "setxattr: \(errno)")
    }

    @Test func caissonBuildMatchesBuildahBud() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/buildah") else { return }
        let cli = try CaissonCLI()
        defer { cli.cleanUp() }
        let work = try Scratch.directory("buildah-parity")
        // buildah keeps cache mounts under TMPDIR: one of the test's own.
        var environment = ProcessInfo.processInfo.environment
        environment["TMPDIR"] = work + "/btmp"
        try FileManager.default.createDirectory(atPath: work + "/btmp", withIntermediateDirectories: true)
        @discardableResult
        func buildah(_ arguments: [String], timeout: TimeInterval = 60) throws -> Shell.Result {
            try Shell.run("/usr/bin/buildah", ["--root", work + "/broot", "--runroot", work + "/brun", "--storage-driver", "overlay"] + arguments,
                          timeout: timeout, environment: environment)
        }
        defer {
            _ = try? buildah(["rm", "--all"])
            _ = try? Shell.run("/bin/sh", ["-c", "grep -o ' \(work)[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l"])
            try? FileManager.default.removeItem(atPath: work)
        }
        // One base image in both stores.
        try Shell.run("/bin/sh", ["-ec", "bash \(FileManager.default.currentDirectoryPath)/scripts/make-busybox-bundle \(work)/bb >/dev/null && tar -C \(work)/bb/rootfs -cf \(work)/bb.tar ."])
        #expect(try cli.run(["import", work + "/bb.tar", "local/busybox:1"]).status == 0)
        #expect(try cli.run(["save", "-o", work + "/bb-archive.tar", "local/busybox:1"]).status == 0)
        let pulled = try buildah(["pull", "-q", "docker-archive:" + work + "/bb-archive.tar"])
        #expect(pulled.status == 0, "\(pulled.stderr)")

        let context = work + "/context"
        try Self.makeContext(context)
        for test in Self.cases {
            let name = test.name
            try test.dockerfile.write(toFile: context + "/Dockerfile", atomically: true, encoding: .utf8)
            let tag = "local/parity-\(name):1"
            let ours = try cli.run(["build", "-q", "-t", tag] + test.arguments + [context])
            #expect(ours.status == 0, "\(name): \(ours.stderr)")
            try (test.buildahDockerfile ?? test.dockerfile).write(toFile: context + "/Dockerfile", atomically: true, encoding: .utf8)
            // The Docker format: the OCI config has no Healthcheck, OnBuild or Shell.
            let theirs = try buildah(["bud", "-q", "--pull=never", "--runtime", "runc", "--isolation", "oci", "--format", "docker",
                                      "-t", tag] + test.arguments + test.buildahArguments + [context], timeout: 120)
            #expect(theirs.status == 0, "\(name): \(theirs.stderr)")
            guard ours.status == 0, theirs.status == 0 else { continue }

            // Root filesystems.
            if test.compareTree {
                let service = try ImageService(ImageStoreOptions(root: cli.root + "/store", registriesConf: cli.registriesConf))
                let target = work + "/ours-\(name)"
                try service.mountRootfs(try service.resolve(tag), id: "parity-\(name)", target: target)
                defer { try? service.unmountRootfs(id: "parity-\(name)", target: target) }
                let container = try buildah(["from", "--pull=never", tag])
                let mount = try buildah(["mount", container.stdout.trimmingCharacters(in: .whitespacesAndNewlines)])
                let theirRoot = mount.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                // buildah leaves its RUN mount points (empty /etc/hostname, /etc/hosts,
                // /etc/resolv.conf and /run) in the image; caisson leaves them out, as BuildKit does.
                let stubs: Set<String> = ["/etc/hostname 100755 0:0 0 \"\"", "/etc/hosts 100755 0:0 0 \"\"",
                                          "/etc/resolv.conf 100755 0:0 0 \"\"", "/run 40755 0:0"]
                let checked = { (line: String) in !test.unchecked.contains(String(line.prefix { $0 != " " })) }
                let ourTree = try Self.tree(target).filter(checked)
                let theirTree = try Self.tree(theirRoot).filter { (!stubs.contains($0) || ourTree.contains($0)) && checked($0) }
                let onlyOurs = Set(ourTree).subtracting(theirTree).sorted(), onlyTheirs = Set(theirTree).subtracting(ourTree).sorted()
                #expect(onlyOurs.isEmpty && onlyTheirs.isEmpty && ourTree.count == theirTree.count,
                        "\(name): only caisson's: \(onlyOurs); only buildah's: \(onlyTheirs)")
            }

            // Configs (and MAINTAINER's author).
            let ourConfig = try cli.run(["image", "inspect", tag])
            let theirConfig = try buildah(["inspect", "--type", "image", tag])
            let ourImage = (try JSONSerialization.jsonObject(with: Data(ourConfig.stdout.utf8)) as? [[String: Any]])?.first ?? [:]
            let theirImage = ((try JSONSerialization.jsonObject(with: Data(theirConfig.stdout.utf8)) as? [String: Any])?["Docker"] as? [String: Any]) ?? [:]
            let ourSettings = Self.config(ourImage["Config"] as? [String: Any] ?? [:])
            let theirSettings = Self.config(theirImage["config"] as? [String: Any] ?? [:])
            #expect(ourSettings == theirSettings, "\(name): configs differ: caisson \(ourSettings.filter { theirSettings[$0.key] != $0.value }); buildah \(theirSettings.filter { ourSettings[$0.key] != $0.value })")
            #expect(ourImage["Author"] as? String ?? "" == theirImage["author"] as? String ?? "", "\(name): authors differ")
        }
    }
}
