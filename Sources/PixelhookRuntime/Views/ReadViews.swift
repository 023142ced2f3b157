import PixelhookCore

/// The pages behind `GET ?view=NAME`, once `ReadView.gate` has let the request in.
public enum ReadViews {
    public static func render(_ view: ReadView, settings: Settings) -> HTTPResponse {
        let spool = Spool(root: settings.spool)
        switch view {
        case .metrics:
            let text = SpoolMetrics(spool: spool).collect().exposition
            return HTTPResponse(status: 200, body: Array(text.utf8), contentType: Metrics.contentType)
        case .builds:
            do {
                let page = try StatusPage.html(settings: settings)
                return HTTPResponse(status: 200, body: Array(page.utf8), contentType: BuildsPage.contentType,
                                    extraHeaders: BuildsPage.headers)
            } catch {
                return ReceiveError(.storage, error.publicReason).response
            }
        }
    }
}
