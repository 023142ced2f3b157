import PixelhookCore

/// The pages behind `GET ?view=NAME`, once `ReadView.gate` has let the request in.
public enum ReadViews {
    public static func render(_ view: ReadView, settings: Settings) -> HTTPResponse {
        let spool = Spool(root: settings.spool)
        switch view {
        case .metrics:
            var text = SpoolMetrics(spool: spool).collect().exposition
            if settings.cluster != nil {
                // Also the cluster's families; `pixelhook_cluster_up 0` when they cannot be read
                // (that gauge is the alarm: an alarms.log line per scrape would bury the others).
                text = ClusterReadViews.metrics(settings: settings, local: text).text
            }
            return HTTPResponse(status: 200, body: Array(text.utf8), contentType: Metrics.contentType)
        case .builds:
            var notice: String?
            if settings.cluster != nil {
                switch ClusterReadViews.buildsPage(settings: settings) {
                case .success(let page):
                    return HTTPResponse(status: 200, body: Array(page.utf8), contentType: BuildsPage.contentType,
                                        extraHeaders: BuildsPage.headers)
                case .failure(let problem):
                    // This host's spool still answers; the page says loudly that it is not the cluster's.
                    notice = "Cluster mode: the cluster's builds cannot be read now (\(problem.message)). This is this host's spool only."
                }
            }
            do {
                let page = try StatusPage.html(settings: settings, notice: notice)
                return HTTPResponse(status: 200, body: Array(page.utf8), contentType: BuildsPage.contentType,
                                    extraHeaders: BuildsPage.headers)
            } catch {
                return ReceiveError(.storage, error.publicReason).response
            }
        }
    }
}
