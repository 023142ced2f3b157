import Foundation
import PixelhookFuzz
import Testing

/// CI replays the committed fuzz corpus (seeds and regressions) through the fuzz checks: a
/// crash or violated invariant stops the test process. Fuzzing itself is `fuzz/run.sh`.
@Suite("Fuzz corpus")
struct FuzzCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fuzz/corpus")

    static let files: [String] = (try? FileManager.default.contentsOfDirectory(atPath: corpus.path).sorted()) ?? []

    @Test("the corpus is there and covers every entry point")
    func corpusPresent() throws {
        #expect(Self.files.count >= 20)
        let entries = try Self.files.compactMap { name in
            try FuzzInput.split(Array(Data(contentsOf: Self.corpus.appendingPathComponent(name))))?.entry
        }
        for entry in FuzzInput.Entry.allCases {
            #expect(entries.contains(entry), "no seed for \(entry)")
        }
    }

    @Test("every corpus input passes the fuzz checks", arguments: files)
    func replay(name: String) throws {
        FuzzTarget.run(Array(try Data(contentsOf: Self.corpus.appendingPathComponent(name))))
    }
}
