import Testing
@testable import PixelhookCore

@Suite("RequestHead")
struct RequestHeadTests {
    // MARK: Meta-variables

    @Test("meta-variables are read")
    func metaVariables() {
        let head = RequestHead(metaVariables: [
            "REQUEST_METHOD": "POST", "QUERY_STRING": "token=abc", "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": "123", "REMOTE_ADDR": "203.0.113.9", "HTTP_HOST": "example.com",
        ])
        #expect(head == RequestHead(method: "POST", queryString: "token=abc", contentType: "application/json",
                                    contentLength: 123, remoteAddress: "203.0.113.9"))
    }

    @Test("the method is uppercased", arguments: [("post", "POST"), ("Get", "GET"), ("hEaD", "HEAD"), ("PUT", "PUT")])
    func methodUppercased(given: String, expected: String) {
        #expect(RequestHead(metaVariables: ["REQUEST_METHOD": given]).method == expected)
    }

    @Test("absent variables give neutral values")
    func absent() {
        let head = RequestHead(metaVariables: [:])
        #expect(head.method == "GET")
        #expect(head.queryString == "")
        #expect(head.contentType == nil)
        #expect(head.contentLength == nil)
        #expect(head.remoteAddress == "")
    }

    @Test("an empty CONTENT_TYPE is no Content-Type")
    func emptyContentType() {
        #expect(RequestHead(metaVariables: ["CONTENT_TYPE": ""]).contentType == nil)
    }

    @Test("CONTENT_LENGTH absent or empty is nil")
    func contentLengthAbsent() {
        #expect(RequestHead(metaVariables: [:]).contentLength == nil)
        #expect(RequestHead(metaVariables: ["CONTENT_LENGTH": ""]).contentLength == nil)
    }

    @Test("a valid CONTENT_LENGTH is read", arguments: [("0", 0), ("65536", 65536), ("9000000000", 9_000_000_000)])
    func contentLengthValid(text: String, value: Int) {
        #expect(RequestHead(metaVariables: ["CONTENT_LENGTH": text]).contentLength == value)
    }

    @Test("an invalid CONTENT_LENGTH is -1",
          arguments: ["abc", "-1", "-0x1", "1.5", "12 ", " 12", "1e3", "99999999999999999999999", "--1"])
    func contentLengthInvalid(text: String) {
        #expect(RequestHead(metaVariables: ["CONTENT_LENGTH": text]).contentLength == -1)
    }

    // MARK: Media type

    @Test("application/json in any case, with parameters, is JSON", arguments: [
        "application/json", "Application/JSON", "APPLICATION/JSON", "application/json; charset=utf-8",
        "application/json;charset=UTF-8", "application/json ; charset=utf-8", " application/json ",
        "application/json;", "application/json; charset=\"utf-8\"; foo=bar",
    ])
    func jsonMediaType(contentType: String) {
        #expect(RequestHead(method: "POST", contentType: contentType).hasJSONMediaType)
    }

    @Test("anything else is not JSON", arguments: [
        "", "text/json", "text/plain", "application/jsonp", "application/json-patch+json",
        "application/x-www-form-urlencoded", "application/ json", "application", "json",
        "multipart/form-data; boundary=application/json", "charset=utf-8; application/json",
    ])
    func notJSONMediaType(contentType: String) {
        #expect(!RequestHead(method: "POST", contentType: contentType).hasJSONMediaType)
    }

    @Test("no Content-Type is not JSON")
    func noContentType() {
        #expect(!RequestHead(method: "POST").hasJSONMediaType)
    }

    // MARK: Query parameters

    @Test("query parameters are found and percent-decoded", arguments: [
        ("token=abc", "abc"),
        ("a=1&token=abc&b=2", "abc"),
        ("token=a%2Bb", "a+b"),
        ("token=a+b", "a b"),
        ("token=%41%62c", "Abc"),
        ("token=%c3%a9t%C3%A9", "été"),
        ("token=x%3Dy%26z", "x=y&z"),
        ("token=a=b", "a=b"),
        ("to%6Ben=abc", "abc"),
        ("token=", ""),
        ("token", ""),
        ("token=first&token=second", "first"),
        ("&&token=abc&&", "abc"),
    ])
    func found(query: String, value: String) {
        #expect(RequestHead(method: "POST", queryString: query).queryParameter("token") == value)
    }

    @Test("a missing parameter is nil", arguments: ["", "tok=abc", "tokens=abc", "Token=abc", "xtoken=abc", "a=token"])
    func missing(query: String) {
        #expect(RequestHead(method: "POST", queryString: query).queryParameter("token") == nil)
    }

    @Test("malformed percent-encoding in a value does not reveal the raw text",
          arguments: ["token=%", "token=%4", "token=%zz", "token=%FF"])
    func malformedValue(query: String) {
        let value = RequestHead(method: "POST", queryString: query).queryParameter("token")
        #expect(value == "")
    }

    @Test("percent decoding of single components", arguments: [
        ("", ""), ("plain", "plain"), ("a+b+c", "a b c"), ("%20", " "), ("%2b", "+"), ("%e2%9c%93", "✓"),
    ])
    func percentDecoding(text: String, expected: String) {
        #expect(PercentDecoding.decode(Substring(text)) == expected)
    }

    @Test("percent decoding refuses malformed escapes and invalid UTF-8",
          arguments: ["%", "%1", "%G0", "%0G", "a%", "%C3", "%FF%FE"])
    func percentDecodingRefuses(text: String) {
        #expect(PercentDecoding.decode(Substring(text)) == nil)
    }

    @Test("queryParameterReadings: + as a space and as itself; one reading without a +",
          arguments: [("token=ab+c", ["ab c", "ab+c"]), ("token=ab%2Bc", ["ab+c"]), ("token=a%20b", ["a b"]),
                      ("token=", [""]), ("token", [""]), ("x=1&token=+", [" ", "+"])] as [(String, [String])])
    func readings(query: String, expected: [String]) {
        #expect(RequestHead(method: "POST", queryString: query).queryParameterReadings("token") == expected)
    }

    @Test("queryParameterReadings: an absent parameter is nil")
    func readingsAbsent() {
        #expect(RequestHead(method: "POST", queryString: "tokens=a+b").queryParameterReadings("token") == nil)
    }
}
