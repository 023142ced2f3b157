/// The start of a FastCGI connection, checked before libfcgi reads it: what libfcgi trusts and
/// should not.
///
/// libfcgi allocates each name-value pair of the PARAMS stream from the lengths the client
/// states, before reading the bytes: a pair claiming 2 GiB makes its `Malloc` assert (Debian's
/// libfcgi computes the size in an `int`, so lengths such as 0x7ffffff0 + 15 overflow to a
/// huge `size_t`) and the whole process aborts. This check reads the records up to the empty
/// PARAMS record that ends the stream, the way a web server sends them (nginx, lighttpd):
/// BEGIN_REQUEST for the RESPONDER role, then PARAMS records of that request, nothing else;
/// every pair's lengths must fit in the params that follow, and the params stay under
/// `maximumParamsBytes`.
///
/// ```swift
/// switch FastCGIRecordCheck.check(peekedBytes) {
/// case .complete: /* hand the connection to libfcgi */
/// case .incomplete: /* wait for more bytes */
/// case .invalid(let reason): /* close the connection */
/// }
/// ```
public enum FastCGIRecordCheck {
    /// nginx sends a few KiB of params; 64 KiB leaves room for long URIs and many headers.
    public static let maximumParamsBytes = 64 * 1024
    /// The most bytes the check needs before it can decide: the params, the BEGIN_REQUEST
    /// record and every record's header and padding, bounded so a stream of tiny padded records
    /// cannot make a worker wait for ever.
    public static let maximumPrefixBytes = 96 * 1024

    public enum Verdict: Equatable, Sendable {
        /// The request is well-formed up to and including the empty PARAMS record, which ends
        /// after `prefixLength` bytes.
        case complete(prefixLength: Int)
        /// Well-formed so far; more bytes are needed to decide.
        case incomplete
        case invalid(String)
    }

    private static let version: UInt8 = 1
    private static let beginRequest: UInt8 = 1
    private static let params: UInt8 = 4
    private static let responderRole = 1

    public static func check(_ bytes: [UInt8]) -> Verdict {
        var offset = 0
        var requestID: Int?
        var paramsContent: [UInt8] = []
        while true {
            guard offset < maximumPrefixBytes else { return .invalid("more than \(maximumPrefixBytes) bytes before the end of the params") }
            guard bytes.count - offset >= 8 else { return .incomplete }
            let type = bytes[offset + 1]
            let id = Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
            let contentLength = Int(bytes[offset + 4]) << 8 | Int(bytes[offset + 5])
            let recordEnd = offset + 8 + contentLength + Int(bytes[offset + 6])
            guard bytes[offset] == version else { return .invalid("record version \(bytes[offset]), not 1") }
            if let requestID {
                guard type == params, id == requestID else {
                    return .invalid("record type \(type) for request \(id) where the params of request \(requestID) go on")
                }
            } else {
                guard type == beginRequest, id != 0, contentLength == 8 else {
                    return .invalid("the first record is type \(type) for request \(id), not BEGIN_REQUEST")
                }
            }
            guard bytes.count >= recordEnd else { return .incomplete }
            let content = bytes[(offset + 8)..<(offset + 8 + contentLength)]
            offset = recordEnd
            guard requestID != nil else {
                let role = Int(content[content.startIndex]) << 8 | Int(content[content.startIndex + 1])
                guard role == responderRole else { return .invalid("role \(role), not RESPONDER") }
                requestID = id
                continue
            }
            if content.isEmpty {
                if let problem = pairProblem(paramsContent) { return .invalid(problem) }
                return .complete(prefixLength: offset)
            }
            guard paramsContent.count + content.count <= maximumParamsBytes else {
                return .invalid("params longer than \(maximumParamsBytes) bytes")
            }
            paramsContent += content
        }
    }

    /// Why the name-value pairs of a whole PARAMS stream are not what libfcgi may read, or nil.
    static func pairProblem(_ pairs: [UInt8]) -> String? {
        var index = 0
        /// A 1-byte length (high bit clear) or a 4-byte one (high bit set, 31 bits).
        func length() -> Int? {
            guard index < pairs.count else { return nil }
            guard pairs[index] & 0x80 != 0 else {
                index += 1
                return Int(pairs[index - 1])
            }
            guard pairs.count - index >= 4 else { return nil }
            let value = Int(pairs[index] & 0x7F) << 24 | Int(pairs[index + 1]) << 16 | Int(pairs[index + 2]) << 8 | Int(pairs[index + 3])
            index += 4
            return value
        }
        while index < pairs.count {
            guard let nameLength = length(), let valueLength = length() else {
                return "a name-value pair's lengths are cut off at byte \(index) of the params"
            }
            guard nameLength + valueLength <= pairs.count - index else {
                return "a name-value pair claims \(nameLength) + \(valueLength) bytes where \(pairs.count - index) remain"
            }
            index += nameLength + valueLength
        }
        return nil
    }
}
