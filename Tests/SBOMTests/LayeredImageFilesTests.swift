import CaissonTestSupport
import Foundation
import SBOM
import Testing

/// LayeredImageFiles against the kernel's own overlayfs: three layer directories in
/// overlay form (whiteouts as 0:0 character devices, opaque directories, a directory
/// replaced by a file, symbolic links pointing out of the tree) are mounted read-only
/// as an overlay, and every file, directory listing, link and content the merged mount
/// shows must be what the view reads without mounting.
@Suite(.serialized)
struct LayeredImageFilesTests {
    typealias S = SBOMTestSupport

    /// Bottom to top. Returns the layer directories.
    static func makeLayers(_ root: String) throws -> [String] {
        let layers = (1...3).map { "\(root)/layer\($0)" }
        try S.sh("""
            L1=\(layers[0]); L2=\(layers[1]); L3=\(layers[2])
            mkdir -p $L1 $L2 $L3
            # Layer 1: the base.
            mkdir -p $L1/etc $L1/usr/lib $L1/a $L1/dir/old $L1/opaque/inner $L1/replaced $L1/site/foo-1.0.dist-info $L1/site/bar-2.0.dist-info
            printf 'ID=debian\\nVERSION_ID="12"\\n' > $L1/usr/lib/os-release
            ln -s ../usr/lib/os-release $L1/etc/os-release
            echo keep > $L1/a/keep.txt; echo gone > $L1/a/gone.txt; echo again > $L1/a/again.txt
            echo x1 > $L1/dir/old/x.txt; echo y > $L1/dir/y.txt
            echo z > $L1/opaque/inner/z.txt; echo top > $L1/opaque/top.txt
            echo f > $L1/replaced/file.txt
            printf 'Metadata-Version: 2.1\\nName: foo\\nVersion: 1.0\\n' > $L1/site/foo-1.0.dist-info/METADATA
            printf 'Metadata-Version: 2.1\\nName: bar\\nVersion: 2.0\\n' > $L1/site/bar-2.0.dist-info/METADATA
            ln -s / $L1/hostroot
            ln -s ../../../../../../../etc $L1/climb
            chmod 755 $L1/a/keep.txt
            # Layer 2: deletions, an opaque directory, a directory replaced by a file.
            mkdir -p $L2/a $L2/site $L2/opaque $L2/dir/old
            mknod $L2/a/gone.txt c 0 0
            mknod $L2/a/again.txt c 0 0
            mknod $L2/site/foo-1.0.dist-info c 0 0
            setfattr -n trusted.overlay.opaque -v y $L2/opaque
            echo new > $L2/opaque/new.txt
            echo replaced-by-file > $L2/replaced
            echo x2 > $L2/dir/old/x.txt
            # Layer 3: a deleted file comes back; bar's metadata rewritten unchanged; a
            # fifo and a device that are not regular files.
            mkdir -p $L3/a $L3/site/bar-2.0.dist-info $L3/dev
            echo back > $L3/a/again.txt
            printf 'Metadata-Version: 2.1\\nName: bar\\nVersion: 2.0\\n' > $L3/site/bar-2.0.dist-info/METADATA
            mkfifo $L3/dev/fifo
            mknod $L3/dev/null c 1 3
            """)
        return layers
    }

    static func view(_ layers: [String]) -> LayeredImageFiles {
        LayeredImageFiles(layers: layers.enumerated().map { (diffID: "sha256:layer\($0.offset + 1)", path: $0.element) })
    }

    /// The merged mount's regular files, relative paths made absolute in the image.
    static func referenceFiles(_ merged: String) throws -> [String] {
        try S.sh("cd \(S.quote(merged)) && find . -type f | sed 's|^\\.||' | LC_ALL=C sort")
            .split(separator: "\n").map(String.init)
    }

    @Test func walkListAndReadMatchTheKernelsOverlay() throws {
        try S.requireRoot()
        try S.require("setfattr", debianPackage: "attr")
        try S.withScratch("overlay") { root in
            let layers = try Self.makeLayers(root)
            let merged = root + "/merged"
            try FileManager.default.createDirectory(atPath: merged, withIntermediateDirectories: true)
            do {
                try S.sh("mount -t overlay overlay -o ro,lowerdir=\(layers.reversed().joined(separator: ":")) \(merged)")
            } catch {
                Issue.record("mounting the reference overlay failed (needs root with CAP_SYS_ADMIN and overlayfs): \(error)")
                return
            }
            defer { _ = try? S.sh("umount \(merged)") }
            let view = Self.view(layers)

            var walked: [ImageFileEntry] = []
            view.walk { walked.append($0) }
            let walkedPaths = walked.map(\.path).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            #expect(walkedPaths == (try Self.referenceFiles(merged)))
            #expect(Set(walked.map(\.path)).count == walked.count, "each visible file once")
            for entry in walked {
                let bytes = try Data(contentsOf: URL(fileURLWithPath: merged + entry.path))
                #expect(view.contents(entry.path, limit: 1 << 20) == [UInt8](bytes), "\(entry.path)")
                #expect(entry.size == bytes.count)
                let attributes = try FileManager.default.attributesOfItem(atPath: merged + entry.path)
                #expect(UInt16(entry.mode & 0o7777) == (attributes[.posixPermissions] as? NSNumber)?.uint16Value, "\(entry.path)")
            }

            // Every directory's listing, as the merged mount lists it.
            let directories = try S.sh("cd \(merged) && find . -type d | sed 's|^\\.||'").split(separator: "\n").map { $0.isEmpty ? "/" : String($0) }
            for directory in directories + ["/"] {
                let expected = try FileManager.default.contentsOfDirectory(atPath: merged + directory).sorted()
                #expect(view.list(directory) == expected, "\(directory)")
            }
            // Symbolic links: what they say, never followed on the host.
            for link in ["/etc/os-release", "/hostroot", "/climb"] {
                #expect(view.symlinkTarget(link) == (try FileManager.default.destinationOfSymbolicLink(atPath: merged + link)))
            }
            #expect(view.contents("/hostroot/etc/passwd", limit: 1 << 20) == nil)
            #expect(view.contents("/climb/passwd", limit: 1 << 20) == nil)
            #expect(view.list("/hostroot") == nil)
            #expect(view.resolvingSymlinks("/climb/passwd") == "/etc/passwd")
            #expect(view.resolvingSymlinks("/etc/os-release") == "/usr/lib/os-release")
            #expect(view.contentsFollowingLinks("/etc/os-release", limit: 100) == view.contents("/usr/lib/os-release", limit: 100))
            // Deleted, hidden and replaced paths.
            #expect(view.contents("/a/gone.txt", limit: 100) == nil)
            #expect(view.contents("/opaque/inner/z.txt", limit: 100) == nil)
            #expect(view.contents("/replaced/file.txt", limit: 100) == nil)
            #expect(view.list("/site/foo-1.0.dist-info") == nil)
            // Layers of visible files.
            #expect(view.layer(of: "/a/keep.txt") == "sha256:layer1")
            #expect(view.layer(of: "/a/again.txt") == "sha256:layer3")
            #expect(view.layer(of: "/replaced") == "sha256:layer2")
            #expect(view.hostPath("/dir/old/x.txt") == layers[1] + "/dir/old/x.txt")
            #expect(view.read("/dir/y.txt", offset: 1, count: 10) == Array("\n".utf8))
        }
    }

    @Test func aPackageWhoseMetadataALaterLayerDeletesIsNotReported() throws {
        try S.requireRoot()
        try S.require("setfattr", debianPackage: "attr")
        try S.withScratch("overlay-catalog") { root in
            let layers = try Self.makeLayers(root)
            let result = CatalogRun().run(Self.view(layers))
            #expect(result.problems.isEmpty, "\(result.problems)")
            #expect(result.operatingSystem?.id == "debian")
            let python = result.packages.filter { $0.ecosystem == .pypi }
            #expect(python.map(\.name) == ["bar"])
            // bar's METADATA was rewritten unchanged by layer 3: it has been there since layer 1.
            #expect(python.first?.layer == "sha256:layer1")
            #expect(python.first?.locations == ["/site/bar-2.0.dist-info/METADATA"])
        }
    }

    @Test func aVersionChangeMovesThePackageToTheLayerThatMadeIt() throws {
        try S.withScratch("attribution") { root in
            let status1 = """
                Package: alpha
                Status: install ok installed
                Version: 1.0
                Architecture: amd64

                Package: beta
                Status: install ok installed
                Version: 1.0
                Architecture: amd64

                """
            let status2 = status1.replacingOccurrences(of: "Package: beta\nStatus: install ok installed\nVersion: 1.0",
                                                       with: "Package: beta\nStatus: install ok installed\nVersion: 2.0")
                + "\nPackage: gamma\nStatus: install ok installed\nVersion: 3.0\nArchitecture: all\n"
            try S.write(root + "/l1/var/lib/dpkg/status", status1)
            try S.write(root + "/l2/var/lib/dpkg/status", status2)
            try S.write(root + "/l3/usr/share/unrelated.txt", "x\n")
            // Layer 4 rewrites the status file with the same content.
            try S.write(root + "/l4/var/lib/dpkg/status", status2)
            let view = Self.view((1...4).map { "\(root)/l\($0)" })
            let packages = Dictionary(uniqueKeysWithValues: DpkgCataloger().catalog(CatalogContext(files: view, operatingSystem: nil))
                .packages.map { ($0.name, $0) })
            #expect(packages["alpha"]?.layer == "sha256:layer1")
            #expect(packages["beta"]?.version == "2.0")
            #expect(packages["beta"]?.layer == "sha256:layer2")
            #expect(packages["gamma"]?.layer == "sha256:layer2")
            #expect(view.layerChanges(2, path: "/var/lib/dpkg/status") == false)
            #expect(view.layerChanges(3, path: "/var/lib/dpkg/status") == true)
        }
    }

    @Test func directoryImageFilesReadsOnePlainTree() throws {
        try S.withScratch("plain") { root in
            try S.write(root + "/usr/lib/os-release", "ID=alpine\nVERSION_ID=3.19.1\n")
            try S.sh("mkdir -p \(root)/etc && ln -s /usr/lib/os-release \(root)/etc/os-release && ln -s / \(root)/up")
            let view = DirectoryImageFiles(root: root)
            var paths: [String] = []
            view.walk { paths.append($0.path) }
            #expect(paths == ["/usr/lib/os-release"])
            #expect(view.layer(of: "/usr/lib/os-release") == nil)
            #expect(try OSReleaseReader().read(view)?.versionID == "3.19.1")
            #expect(view.contents("/up/etc/passwd", limit: 1 << 20) == nil)
            #expect(DirectoryImageFiles(root: root, layer: "sha256:one").layer(of: "/etc/os-release") == "sha256:one")
        }
    }
}
