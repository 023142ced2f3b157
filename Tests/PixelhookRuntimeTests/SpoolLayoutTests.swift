import PixelhookCore
import PixelhookRuntime
import Testing

/// The spool's format spelled out, once: the other tests name the spool's files through
/// `SpoolLayout`, so this is the test that fails when a name changes (the format is a contract:
/// docs/spool.md, and `retry`, `gc` and older spools depend on it).
@Suite struct SpoolLayoutTests {
    let layout = SpoolLayout(root: "/s")
    let key = DeliveryKey(project: "p1", build: "u1", event: "build.approved")

    @Test("Every path and name in the spool")
    func paths() {
        #expect(layout.deliveries == "/s/deliveries")
        #expect(layout.runners == "/s/runners")
        #expect(layout.pending == "/s/pending")
        #expect(layout.unfinished == "/s/unfinished")
        #expect(layout.gaveUp == "/s/gave-up")
        #expect(layout.requestLog == "/s/requests.log")
        #expect(layout.rotatedRequestLog == "/s/requests.log.1")
        #expect(layout.alarmLog == "/s/alarms.log")
        #expect(layout.metricsCheckpoint == "/s/metrics.checkpoint")
        #expect(layout.metricsCheckpointTemplate == "/s/metrics.checkpoint.XXXXXX")
        #expect(layout.retryLock == "/s/retry.lock")
        #expect(layout.projectDirectory("p1") == "/s/deliveries/p1")
        #expect(layout.buildDirectory(key) == "/s/deliveries/p1/u1")
        #expect(layout.buildDirectory(BuildID(project: "p1", build: "u1")) == "/s/deliveries/p1/u1")
        #expect(layout.payloadPath(key) == "/s/deliveries/p1/u1/build.approved.json")
        #expect(layout.companionPath(key, .result) == "/s/deliveries/p1/u1/build.approved.result")
        #expect(layout.companionPath(key, .resultTemporary) == "/s/deliveries/p1/u1/build.approved.result.tmp")
        #expect(layout.companionPath(key, .output) == "/s/deliveries/p1/u1/build.approved.output")
        #expect(layout.companionPath(key, .running) == "/s/deliveries/p1/u1/build.approved.running")
        #expect(SpoolLayout.lockPath(in: "/b") == "/b/.lock")
        #expect(SpoolLayout.arrivalsPath(in: "/b") == "/b/.arrivals")
        #expect(SpoolLayout.temporaryPrefix == ".tmp-")
        #expect(layout.pendingEntry(BuildID(project: "p1", build: "u1")) == "/s/pending/p1:u1")
        #expect(layout.unfinishedEntry(BuildID(project: "p1", build: "u1")) == "/s/unfinished/p1:u1")
        #expect(SpoolLayout.completeName == ".complete")
    }

    @Test("A payload's and a companion's name read back to the event; hidden and other names do not")
    func eventsOfNames() {
        #expect(SpoolLayout.event(ofPayload: "build.approved.json") == "build.approved")
        #expect(SpoolLayout.event(ofPayload: ".tmp-1.json") == nil)
        #expect(SpoolLayout.event(ofPayload: "build.approved.result") == nil)
        #expect(SpoolLayout.event(ofCompanion: "build.approved.result.tmp") == "build.approved")
        #expect(SpoolLayout.event(ofCompanion: "build.approved.result") == "build.approved")
        #expect(SpoolLayout.event(ofCompanion: "build.approved.output") == "build.approved")
        #expect(SpoolLayout.event(ofCompanion: "build.approved.running", [.running]) == "build.approved")
        #expect(SpoolLayout.event(ofCompanion: "build.approved.output", [.running]) == nil)
        #expect(SpoolLayout.event(ofCompanion: ".arrivals") == nil)
        #expect(SpoolLayout.event(ofCompanion: "build.approved.json") == nil)
    }
}
