import Testing
@testable import PixelhookCore

/// SPEC "Metrics and the status page": who may open `?view=metrics` and `?view=builds`.
@Suite("Read view gate")
struct ReadViewGateTests {
    static func get(_ query: String, authorization: String? = nil, method: String = "GET") -> RequestHead {
        RequestHead(method: method, queryString: query, authorization: authorization)
    }

    static func decide(_ head: RequestHead, _ extra: [String: String]) throws -> Triage.HeadDecision {
        Triage.head(head, settings: .success(try Fixture.settings(extra)))
    }

    @Test("no read token configured: 404 for every view, whatever the request carries")
    func offWithoutReadToken() throws {
        for query in ["view=metrics", "view=builds", "view=metrics&token=t", "view=nope"] {
            let refusal = try #require(try Self.decide(Self.get(query), ["PIXELHOOK_TOKEN": "t"]).refusal)
            #expect(refusal.kind == .notFound && refusal.status == 404, "\(query)")
            #expect(refusal.response.bodyText.contains(#""error":"not_found""#))
        }
    }

    @Test("read token set: missing or wrong is 401, by ?token= or Authorization: Bearer")
    func unauthorized() throws {
        let settings = ["PIXELHOOK_READ_TOKEN": "r34d", "PIXELHOOK_TOKEN": "s3nd"]
        let heads = [
            Self.get("view=metrics"), Self.get("view=metrics&token=r34"), Self.get("view=metrics&token=s3nd"),
            Self.get("view=builds&token=s3nd"), Self.get("view=metrics", authorization: "Bearer s3nd"),
            Self.get("view=metrics", authorization: "Basic r34d"), Self.get("view=metrics", authorization: "Bearer"),
        ]
        for head in heads {
            let refusal = try #require(try Self.decide(head, settings).refusal, "\(head)")
            #expect(refusal.kind == .unauthorized && refusal.status == 401, "\(head)")
        }
    }

    @Test("the right read token opens each view, as ?token= or a bearer credential")
    func opens() throws {
        let settings = ["PIXELHOOK_READ_TOKEN": "r34d+x", "PIXELHOOK_TOKEN": "s3nd"]
        #expect(try Self.decide(Self.get("view=metrics&token=r34d%2Bx"), settings) == .read(.metrics))
        #expect(try Self.decide(Self.get("token=r34d+x&view=builds"), settings) == .read(.builds))
        #expect(try Self.decide(Self.get("view=metrics", authorization: "Bearer r34d+x"), settings) == .read(.metrics))
        #expect(try Self.decide(Self.get("view=metrics", authorization: "bearer  r34d+x "), settings) == .read(.metrics))
        #expect(try Self.decide(Self.get("view=metrics&token=wrong", authorization: "Bearer r34d+x"), settings) == .read(.metrics))
        #expect(try Self.decide(Self.get("view=metrics&token=r34d%2Bx", method: "HEAD"), settings) == .read(.metrics))
        let unknown = try #require(try Self.decide(Self.get("view=secrets&token=r34d%2Bx"), settings).refusal)
        #expect(unknown.status == 404)
    }

    @Test("a GET without ?view= stays the health check, read token or not")
    func healthStays() throws {
        #expect(try Self.decide(Self.get(""), ["PIXELHOOK_READ_TOKEN": "r"]) == .health)
        #expect(try Self.decide(Self.get("token=wrong"), ["PIXELHOOK_READ_TOKEN": "r"]) == .health)
    }

    @Test("the read token never opens POST")
    func readTokenIsNotTheSendersToken() throws {
        let head = RequestHead(method: "POST", queryString: "token=r34d", contentType: "application/json",
                               authorization: "Bearer r34d")
        let refusal = try #require(try Self.decide(head, ["PIXELHOOK_READ_TOKEN": "r34d", "PIXELHOOK_TOKEN": "s3nd"]).refusal)
        #expect(refusal.status == 401)
    }

    @Test("invalid settings: a view is the 500 configuration error, never opened")
    func invalidSettings() {
        let decision = Triage.head(Self.get("view=metrics&token=r"), settings: .failure(SettingsError("broken")))
        #expect(decision.refusal?.status == 500)
    }

    @Test("the Authorization header arrives as HTTP_AUTHORIZATION, kept by the FastCGI filter's list")
    func metaVariable() {
        let head = RequestHead(metaVariables: ["REQUEST_METHOD": "GET", "QUERY_STRING": "view=metrics",
                                               "HTTP_AUTHORIZATION": "Bearer abc"])
        #expect(head.bearerToken == "abc")
        #expect(RequestHead.metaVariableNames.contains("HTTP_AUTHORIZATION"))
    }
}
