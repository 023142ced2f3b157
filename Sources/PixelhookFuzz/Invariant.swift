import PixelhookCore

/// A property that must hold for every input; a violation stops the process so that libFuzzer
/// (or the corpus replay) reports the input that caused it.
enum Invariant {
    static func check(
        _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
        file: StaticString = #fileID, line: UInt = #line
    ) {
        if !condition() { fatalError("invariant violated: \(message())", file: file, line: line) }
    }

    /// UTF-8 byte equality: `String ==` compares canonical equivalents (`é` and `e\u{301}`) equal.
    static func sameBytes(_ lhs: String?, _ rhs: String?) -> Bool {
        switch (lhs, rhs) {
        case (nil, nil): true
        case (let a?, let b?): a.utf8.elementsEqual(b.utf8)
        default: false
        }
    }

    static func sameBytes(_ lhs: Envelope, _ rhs: Envelope) -> Bool {
        sameBytes(lhs.event, rhs.event) && sameBytes(lhs.projectId, rhs.projectId)
            && sameBytes(lhs.uploadId, rhs.uploadId) && sameBytes(lhs.fileUrl, rhs.fileUrl)
            && sameBytes(lhs.status, rhs.status) && sameBytes(lhs.objection, rhs.objection)
            && sameBytes(lhs.timestamp, rhs.timestamp)
    }
}
