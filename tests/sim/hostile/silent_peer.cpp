// silent_peer: peers that never answer, and how long the engine's default
// settings take to give up on them.
//
// - A connects to a host whose TCP never answers. The host answers ARP, or
//   (in a share of the seeds) does not exist at all, so that ARP gives up on
//   it over and over. The connect must fail with timed_out once the SYN and
//   its syn_retries retransmissions went unanswered, each timeout double the
//   last (RFC 6298 section 5.5, RFC 9293 section 3.8.1): with the defaults,
//   1 + 2 + ... + 64 s = 127 s after the connect, as Linux takes.
// - A connects to a peer spoken by hand and sends it a stream; after a
//   random part of it the peer goes silent (it still answers ARP). A must
//   retransmit SND.UNA data_retries times, each wait double the last up to
//   RTO.max (RFC 6298 section 5.5), then give up with timed_out one more
//   (capped) wait later (RFC 9293 section 3.8.3, R2). With the defaults and
//   an RTO near RTO.min that is about 925 s (Linux: "924.6 s" for
//   tcp_retries2 = 15); whatever the RTO was when the peer fell silent, it
//   lies between the sums of the doubling series from RTO.min and from the
//   initial RTO.

#include "sim/hostile/hostile.hpp"
#include "sim/raw_tcp.hpp"

#include <fmt/core.h>

#include <map>
#include <vector>

namespace synack::sim::hostile {

namespace {

using time::Duration;
using time::Instant;

class SilentPeer final : public Scenario {
public:
    SilentPeer(Rng& r, Setup& s)
        : setup_(default_setup(r)), silent_exists_(r.chance(0.7)),
          stream_bytes_(r.between(64 * 1024, 512 * 1024)),
          silence_after_(r.between(0, stream_bytes_ / 2)),
          iss_(static_cast<std::uint32_t>(r.next())), timestamps_(r.chance(0.5)) {
        s = setup_;
    }

    void start(App& app, World& w) override {
        app_ = &app;
        x_.add_host(Host{ip_x, mac_x, true});
        x_.add_host(Host{ip_silent, mac_silent, silent_exists_});
        x_.set_handler([this](World& world, bool, const Segment& seg) { on_segment(world, seg); });
        w.attach(&x_);
        const std::uint16_t peer_port = 443;
        raw_.emplace(x_, RawTcpConfig{.host = Host{ip_x, mac_x, true},
                                      .port = peer_port,
                                      .peer_is_a = true,
                                      .peer_ip = ip_a,
                                      .peer_mac = mac_a,
                                      .peer_port = 0,
                                      .iss = wire::Seq32(iss_),
                                      .timestamps = timestamps_,
                                      .send_bytes = 0,
                                      .fin = false});
        const unsigned gone = reason_bit(tcp::CloseReason::timed_out);
        silent_ = app.connect_to(
            true, ip_silent, server_port,
            Policy{.shutdown = Policy::Shutdown::never, .expect_reasons = gone, .raw_peer = true});
        talker_ = app.connect_to(true, ip_x, peer_port,
                                 Policy{.send_bytes = stream_bytes_,
                                        .shutdown = Policy::Shutdown::never,
                                        .expect_reasons = gone,
                                        .raw_peer = true});
        SYNACK_ASSERT(silent_ != nullptr && talker_ != nullptr);
        connect_time_ = w.now;
    }

    bool step(App&, World& w) override {
        if (raw_) {
            raw_->on_timer(w);
        }
        for (Endpoint* ep : {silent_, talker_}) {
            if (ep != nullptr && ep->closed && !closed_at_[ep == talker_]) {
                closed_at_[ep == talker_] = w.now;
            }
        }
        return false;
    }
    std::optional<Instant> wakeup() const override { return raw_ ? raw_->wakeup() : std::nullopt; }

    void observe(Instant now, bool from_a, const rte_mbuf* m) override {
        if (!from_a) {
            return;
        }
        auto seg = reader_.tcp(m, false);
        if (!seg || seg->dst != ip_x || seg->seg_len() == 0) {
            return;
        }
        if (!silence_) {
            first_sent_.emplace(seg->tcp.seq.raw(), now); // only the first time
        } else if (seg->tcp.seq == *una_at_silence_) {
            sends_.push_back(now);
        }
    }

    void check(App&, World& w, std::vector<std::string>& failures) const override {
        const tcp::TcpConfig& tcp = setup_.a.tcp;
        // The connect to the silent host.
        const Duration syn_expected =
            backoff_total(tcp.rto_initial, tcp.rto_max, tcp.syn_retries + 1u);
        if (!closed_at_[0]) {
            failures.push_back("silent host: the connect never ended");
        } else {
            const Duration took = *closed_at_[0] - connect_time_;
            // The wheel never fires early, and at most a tick late per timeout.
            if (took < syn_expected ||
                took > syn_expected + Duration::from_ms(2 * (tcp.syn_retries + 1))) {
                failures.push_back(
                    fmt::format("silent host ({}): the connect gave up after {} ms, not {} ms "
                                "(the SYN and {} retransmissions)",
                                silent_exists_ ? "answers ARP" : "no such host", took.ms(),
                                syn_expected.ms(), tcp.syn_retries));
            }
        }
        // The peer that went silent.
        if (!silence_) {
            failures.push_back(
                fmt::format("silent peer: never went silent (received {} of {} bytes)",
                            raw_ ? raw_->received().bytes : 0, silence_after_));
            return;
        }
        if (raw_->received().first_bad) {
            failures.push_back(fmt::format("silent peer: byte {} of the stream is wrong",
                                           *raw_->received().first_bad));
        }
        if (!closed_at_[1]) {
            failures.push_back("silent peer: the connection never ended");
            return;
        }
        // The retransmission timer runs from our last ACK's arrival (RFC 6298
        // section 5.3), or from SND.UNA's first transmission if A sent it
        // only later; each retransmission waits double the last, up to RTO.max.
        const auto early = first_sent_.find(una_at_silence_->raw());
        if (early == first_sent_.end() && sends_.empty()) {
            failures.push_back("silent peer: A never sent the data the peer was waiting for");
            return;
        }
        const bool original_after = early == first_sent_.end();
        const Instant original = original_after ? sends_[0] : early->second;
        const Instant start = std::max(*silence_, original);
        const std::vector<Instant> rtx(sends_.begin() + (original_after ? 1 : 0), sends_.end());
        if (rtx.size() != tcp.data_retries) {
            failures.push_back(
                fmt::format("silent peer: SND.UNA resent {} times before giving up, not {}",
                            rtx.size(), tcp.data_retries));
            return;
        }
        Instant last = start;
        Duration wait;
        for (std::size_t i = 0; i <= rtx.size(); ++i) {
            const Instant at = i < rtx.size() ? rtx[i] : *closed_at_[1];
            const Duration gap = at - last;
            if (i > 0) {
                const Duration want = std::min(wait * 2, tcp.rto_max);
                if (gap + Duration::from_ms(2) < want || gap > want + Duration::from_ms(2)) {
                    failures.push_back(
                        fmt::format("silent peer: wait {} was {} ms after {} ms (want {} ms)", i,
                                    gap.ms(), wait.ms(), want.ms()));
                }
            }
            wait = gap;
            last = at;
        }
        const Duration took = *closed_at_[1] - start;
        const Duration lo = backoff_total(tcp.rto_min, tcp.rto_max, tcp.data_retries + 1u);
        const Duration hi = backoff_total(tcp.rto_initial, tcp.rto_max, tcp.data_retries + 1u);
        if (took < lo || took > hi + Duration::from_ms(2 * (tcp.data_retries + 1))) {
            failures.push_back(fmt::format(
                "silent peer: gave up {:.3f} s after the timer started; the defaults give "
                "{:.3f} to {:.3f} s",
                took.us() / 1e6, lo.us() / 1e6, hi.us() / 1e6));
        }
        check_limits_unreached(w, failures);
    }

private:
    void on_segment(World& w, const Segment& seg) {
        if (!raw_->ours(seg)) {
            return; // the silent host: nothing, ever
        }
        if (raw_->state() == RawTcp::State::listen) {
            // A's SYN tells which port A chose, and so which stream comes.
            raw_->set_keys(0, app_->stream_key(seg.tcp.src_port, seg.tcp.dst_port));
        }
        raw_->receive(w, seg);
        if (!silence_ && raw_->established() && raw_->received().bytes >= silence_after_) {
            raw_->go_silent();
            // Our last ACK reaches A after the wire's delay: A's retransmission
            // timer runs from there.
            silence_ = w.now + setup_.station.delay;
            una_at_silence_ = raw_->rcv_nxt();
        }
    }

    Setup setup_;
    bool silent_exists_;
    std::uint64_t stream_bytes_;
    std::uint64_t silence_after_;
    std::uint32_t iss_;
    bool timestamps_;
    App* app_ = nullptr;
    Adversary x_;
    std::optional<RawTcp> raw_;
    FrameReader reader_;
    Endpoint* silent_ = nullptr;
    Endpoint* talker_ = nullptr;
    Instant connect_time_;
    std::optional<Instant> closed_at_[2];
    std::optional<Instant> silence_;
    std::optional<wire::Seq32> una_at_silence_;
    std::map<std::uint32_t, Instant> first_sent_; // A's segments to the peer before the silence
    std::vector<Instant> sends_;                  // of SND.UNA's segment after it
};

} // namespace

std::unique_ptr<Scenario> make_silent_peer(Rng& r, Setup& s) {
    return std::make_unique<SilentPeer>(r, s);
}

} // namespace synack::sim::hostile
