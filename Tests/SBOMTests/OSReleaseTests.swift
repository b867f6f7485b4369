import Foundation
import SBOM
import Testing

/// os-release(5) files are shell assignments: the values the reader finds must be the
/// ones `sh` finds when it sources the file.
struct OSReleaseTests {
    typealias S = SBOMTestSupport

    static let samples = [
        """
        PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
        NAME="Debian GNU/Linux"
        VERSION_ID="12"
        ID=debian
        HOME_URL="https://www.debian.org/"
        """,
        """
        NAME="Alpine Linux"
        ID=alpine
        VERSION_ID=3.19.1
        PRETTY_NAME="Alpine Linux v3.19"
        """,
        """
        # A comment, then quoting the shell accepts.
        ID='rocky'
        ID_LIKE="rhel centos fedora"
        VERSION_ID="9.3"
        PRETTY_NAME="Rocky \\"Blue\\" Onyx \\$5 \\\\ \\n"
        """,
        """
        ID=ubuntu
        ID_LIKE=debian
        PRETTY_NAME=Ubuntu\\ 22.04
        VERSION_ID="22.04"
        """,
    ]

    @Test(arguments: samples)
    func readsWhatTheShellReads(_ text: String) throws {
        try S.withScratch("os-release") { root in
            try S.write(root + "/usr/lib/os-release", text + "\n")
            let reference = try S.sh(". \(root)/usr/lib/os-release; printf '%s\\n%s\\n%s\\n%s' \"$ID\" \"$VERSION_ID\" \"$PRETTY_NAME\" \"$ID_LIKE\"")
                .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let os = try #require(try OSReleaseReader().read(DirectoryImageFiles(root: root)))
            #expect(os.id == reference[0])
            #expect((os.versionID ?? "") == reference[1])
            #expect((os.prettyName ?? "") == reference[2])
            #expect(os.idLike.joined(separator: " ") == reference[3])
        }
    }

    @Test func etcWinsAndItsLinkIsFollowedInsideTheImage() throws {
        try S.withScratch("os-release-link") { root in
            try S.write(root + "/usr/lib/os-release", "ID=fromusr\n")
            try S.write(root + "/opt/elsewhere/os-release", "ID=fromlink\n")
            // An absolute link: the image's /opt, not this machine's.
            try FileManager.default.createSymbolicLink(atPath: root + "/etc", withDestinationPath: "/opt/elsewhere")
            #expect(try OSReleaseReader().read(DirectoryImageFiles(root: root))?.id == "fromlink")
            try FileManager.default.removeItem(atPath: root + "/etc")
            #expect(try OSReleaseReader().read(DirectoryImageFiles(root: root))?.id == "fromusr")
            try FileManager.default.removeItem(atPath: root + "/usr")
            #expect(try OSReleaseReader().read(DirectoryImageFiles(root: root)) == nil)
        }
    }
}
