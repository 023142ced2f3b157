/// pixelhook's version, in this one place: `pixelhook --version` prints it, and
/// `scripts/package.sh` names the release artifacts after that output.
enum Version {
    static let current = "0.9.0"
}
