#if canImport(Glibc)
import Glibc
#endif
import PixelhookFuzz

/// The plain build of `pixelhook-fuzz`: runs the fuzz checks once on each file given, or on
/// each file in each directory given (a crash file, or the whole corpus).
enum CorpusReplay {
    static func run(_ paths: [String]) -> Int32 {
        guard !paths.isEmpty else {
            write("usage: pixelhook-fuzz FILE_OR_DIRECTORY...\n", to: 2)
            return 64
        }
        var count = 0
        for path in paths {
            for file in files(at: path) {
                guard let bytes = contents(of: file) else {
                    write("pixelhook-fuzz: cannot read \(file)\n", to: 2)
                    return 66
                }
                FuzzTarget.run(bytes)
                count += 1
            }
        }
        write("replayed \(count) inputs\n", to: 1)
        return 0
    }

    /// `path` itself, or the regular files directly inside it, sorted.
    static func files(at path: String) -> [String] {
        guard let directory = opendir(path) else { return [path] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if !name.hasPrefix(".") { names.append(path + "/" + name) }
        }
        return names.sorted()
    }

    static func contents(of path: String) -> [UInt8]? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count == 0 { return ferror(file) == 0 ? bytes : nil }
            bytes += buffer[..<count]
        }
    }

    static func write(_ text: String, to descriptor: Int32) {
        var bytes = Array(text.utf8)
        _ = Glibc.write(descriptor, &bytes, bytes.count)
    }
}
