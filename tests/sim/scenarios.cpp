#include "sim/scenarios.hpp"

#include "sim/hostile/hostile.hpp"

#include <synack/wire/ethernet.hpp>
#include <synack/wire/ipv4.hpp>
#include <synack/wire/tcp.hpp>

#include <fmt/core.h>

#include <map>

namespace synack::sim {

/// A link with a random mix of impairments at the given loss rate.
LinkProfile random_profile(Rng& r, double loss) {
    using time::Duration;
    LinkProfile p;
    p.loss = loss;
    p.delay = Duration::from_us(static_cast<std::int64_t>(r.between(10, 20'000)));
    if (r.chance(0.2)) {
        return p; // a clean link but for the loss
    }
    p.duplicate = r.pick({0.0, 0.0, 0.01, 0.05});
    p.reorder = r.pick({0.0, 0.0, 0.02, 0.1});
    p.corrupt = r.pick({0.0, 0.0, 0.01, 0.02});
    const auto delay_us = static_cast<std::uint64_t>(p.delay.us());
    if (r.chance(0.3)) {
        p.jitter = Duration::from_us(static_cast<std::int64_t>(r.between(0, delay_us)));
    }
    p.reorder_delay =
        Duration::from_us(static_cast<std::int64_t>(r.between(100, 2 * delay_us + 1000)));
    p.rate_bps = r.pick({std::uint64_t{0}, std::uint64_t{0}, std::uint64_t{10'000'000},
                         std::uint64_t{100'000'000}, std::uint64_t{1'000'000'000}});
    if (p.rate_bps != 0) {
        p.queue_bytes = static_cast<std::uint32_t>(r.between(16 * 1024, 256 * 1024));
    }
    return p;
}

namespace {

using time::Duration;
using time::Instant;
using Shutdown = Policy::Shutdown;

constexpr std::uint16_t server_port = 80;
constexpr std::uint64_t kib = 1024;

/// Each end's options vary too: the handshake negotiates what both offer.
void vary(Rng& r, engine::EngineConfig& c) {
    c.tcp.mss = r.pick({std::uint16_t{1460}, std::uint16_t{1460}, std::uint16_t{1460}, std::uint16_t{536},
                        std::uint16_t{1000}});
    c.tcp.window_scaling = r.chance(0.85);
    c.tcp.timestamps = r.chance(0.85);
    c.tcp.sack = r.chance(0.85);
}

Setup random_setup(Rng& r) {
    Setup s{base_config(true, r.next()), base_config(false, r.next()), {}, {}};
    vary(r, s.a);
    vary(r, s.b);
    const double loss = r.pick({0.0, 0.0, 0.01, 0.02, 0.05, 0.1, 0.2});
    s.a_to_b = random_profile(r, loss);
    s.b_to_a = random_profile(r, r.chance(0.25) ? r.pick({0.0, 0.01, 0.05, 0.2}) : loss);
    return s;
}

// --- the scenarios ---

/// B sends a stream to A and closes; A reads to the end and closes.
class BulkOneWay final : public Scenario {
public:
    explicit BulkOneWay(Rng& r) : size_(r.between(0, 512 * kib)), nagle_(r.chance(0.5)), close_(r.chance(0.5)) {}
    explicit BulkOneWay(std::uint64_t size) : size_(size), nagle_(true), close_(false) {}
    void start(App& app, World&) override {
        app.listen(true, server_port, [this](std::uint16_t) {
            return Policy{.shutdown = Shutdown::after_peer_fin, .close = close_};
        });
        app.connect(false, server_port, Policy{.send_bytes = size_, .nagle = nagle_});
    }

private:
    std::uint64_t size_;
    bool nagle_;
    bool close_; // the server closes rather than shuts down
};

/// Both send a stream at once and close when done.
class BulkBothWays final : public Scenario {
public:
    explicit BulkBothWays(Rng& r) : to_a_(r.between(0, 256 * kib)), to_b_(r.between(0, 256 * kib)) {}
    void start(App& app, World&) override {
        app.listen(true, server_port, [this](std::uint16_t) { return Policy{.send_bytes = to_b_}; });
        app.connect(false, server_port, Policy{.send_bytes = to_a_});
    }

private:
    std::uint64_t to_a_;
    std::uint64_t to_b_;
};

/// Many short request/response connections, opened one after another while
/// others run; the client closes first (echo) or the server does.
class ManyShort final : public Scenario {
public:
    explicit ManyShort(Rng& r)
        : count_(static_cast<unsigned>(r.between(2, 24))), stagger_(Duration::from_us(static_cast<std::int64_t>(r.between(0, 20'000)))),
          request_(r.between(1, 4 * kib)), response_(r.between(1, 8 * kib)), client_first_(r.chance(0.5)) {}

    void start(App& app, World& w) override {
        if (client_first_) {
            app.listen(true, server_port, [](std::uint16_t) { return Policy{.echo = true, .close = true}; });
        } else {
            app.listen(true, server_port, [this](std::uint16_t) {
                return Policy{.send_bytes = response_, .shutdown = Shutdown::when_sent};
            });
        }
        next_ = w.now;
    }
    bool step(App& app, World& w) override {
        if (opened_ == count_ || w.now < next_) {
            return false;
        }
        Policy p{.send_bytes = request_};
        if (client_first_) {
            p.expect_echo = true;
        } else {
            p.shutdown = Shutdown::after_peer_fin;
        }
        SYNACK_ASSERT(app.connect(false, server_port, p) != nullptr);
        ++opened_;
        next_ = w.now + stagger_;
        return true;
    }
    std::optional<Instant> wakeup() const override {
        return opened_ == count_ ? std::nullopt : std::optional(next_);
    }

private:
    unsigned count_;
    Duration stagger_;
    std::uint64_t request_;
    std::uint64_t response_;
    bool client_first_;
    unsigned opened_ = 0;
    Instant next_;
};

/// B sends a request and shuts down its write side; A answers only after
/// B's FIN, so data flows into a half-closed connection, then A closes.
class HalfClose final : public Scenario {
public:
    explicit HalfClose(Rng& r) : request_(r.between(0, 16 * kib)), response_(r.between(1, 512 * kib)) {}
    void start(App& app, World&) override {
        app.listen(true, server_port, [this](std::uint16_t) {
            return Policy{.send_bytes = response_, .send_after_peer_fin = true};
        });
        app.connect(false, server_port, Policy{.send_bytes = request_});
    }
    void check(App& app, World&, std::vector<std::string>& failures) const override {
        for (const Endpoint& ep : app.endpoints()) {
            if (!ep.on_a && ep.received.bytes != response_) {
                failures.push_back(fmt::format("half-close: B received {} of {} bytes after its FIN",
                                               ep.received.bytes, response_));
            }
        }
    }

private:
    std::uint64_t request_;
    std::uint64_t response_;
};

/// Both ends connect to each other at the same instant (RFC 9293 figure 8),
/// send a little, and close together (figure 13, CLOSING).
class Simultaneous final : public Scenario {
public:
    explicit Simultaneous(Rng& r) {
        if (!r.chance(0.3)) {
            to_a_ = r.between(0, 32 * kib);
            to_b_ = r.between(0, 32 * kib);
        }
    }
    void start(App& app, World&) override {
        SYNACK_ASSERT(app.connect(true, 6000, Policy{.send_bytes = to_b_}, 5000) != nullptr);
        SYNACK_ASSERT(app.connect(false, 5000, Policy{.send_bytes = to_a_}, 6000) != nullptr);
    }

private:
    std::uint64_t to_a_ = 0;
    std::uint64_t to_b_ = 0;
};

/// One end aborts mid-transfer: it sends RST and frees the connection; the
/// other learns of it from that RST or, if the RST is lost, from the one its
/// next segment draws (RFC 9293 section 3.10.7.1).
class PeerAbort final : public Scenario {
public:
    explicit PeerAbort(Rng& r) : server_aborts_(r.chance(0.5)), size_(r.between(600 * kib, 1024 * kib)), at_(r.between(0, 256 * kib)) {}
    void start(App& app, World&) override {
        // The stream is longer than what the aborting side can take in
        // before it aborts, so the other side always has unacknowledged data.
        const Policy aborter{.shutdown = Shutdown::never, .abort_after = at_,
                             .expect_reasons = reason_bit(tcp::CloseReason::aborted)};
        const Policy victim{.send_bytes = size_, .expect_reasons = reason_bit(tcp::CloseReason::reset)};
        app.listen(true, server_port, [=, this](std::uint16_t) { return server_aborts_ ? aborter : victim; });
        app.connect(false, server_port, server_aborts_ ? victim : aborter);
    }

private:
    bool server_aborts_;
    std::uint64_t size_;
    std::uint64_t at_;
};

/// A slow reader behind a small receive buffer: the window closes, the
/// sender probes it (persist timer, RFC 9293 section 3.8.6.1), and opens
/// again as the reader catches up; SWS avoidance keeps segments large.
class ZeroWindow final : public Scenario {
public:
    ZeroWindow(Rng& r, Setup& s) : size_(r.between(8 * kib, 64 * kib)) {
        s.a.tcp.recv_buffer_bytes = static_cast<std::uint32_t>(r.pick({2 * kib, 4 * kib, 8 * kib, 16 * kib, 64 * kib}));
        reader_.read_chunk = static_cast<std::uint32_t>(r.between(64, 4 * kib));
        reader_.read_every = Duration::from_us(static_cast<std::int64_t>(r.between(1'000, 1'000'000)));
        reader_.shutdown = Shutdown::after_peer_fin;
    }
    void start(App& app, World&) override {
        app.listen(true, server_port, [this](std::uint16_t) { return reader_; });
        app.connect(false, server_port, Policy{.send_bytes = size_});
    }

private:
    std::uint64_t size_;
    Policy reader_;
};

/// Mid-transfer, the link loses everything for a while (or for good). The
/// sender's retransmission timer backs off, doubling up to the maximum
/// (RFC 6298 section 5.5); when the link heals the transfer completes; when
/// it does not, both ends give up (retries; keepalive on the receiver).
class BlackHole final : public Scenario {
public:
    BlackHole(Rng& r, Setup& s)
        : size_(r.between(64 * kib, 256 * kib)), length_(Duration::from_ms(static_cast<std::int64_t>(r.between(1'000, 300'000)))),
          forever_(r.chance(0.25)), rto_max_(s.b.tcp.rto_max),
          clean_(s.a_to_b.loss <= 0.02 && s.b_to_a.loss <= 0.02) {
        if (forever_) {
            s.b.tcp.data_retries = static_cast<std::uint8_t>(r.between(5, 8));
            // Probes enough that a lossy link before the hole (20% each
            // way loses a probe or its answer 36% of the time) is not taken
            // for a dead one.
            s.a.tcp.keepalive = tcp::KeepaliveConfig{.enabled = true, .idle = Duration::from_s(30),
                                                     .interval = Duration::from_s(10), .probes = 12};
            // B may have had everything acknowledged before the hole: then
            // only keepalive tells it, half-closed in FIN-WAIT-2, that A is gone.
            s.b.tcp.keepalive = s.a.tcp.keepalive;
        }
    }
    void start(App& app, World&) override {
        const unsigned gone = reason_bit(tcp::CloseReason::timed_out);
        // B's few retries may run out under heavy loss before the hole
        // opens; then A's next keepalive probe draws B's RST.
        const unsigned a_gone = gone | reason_bit(tcp::CloseReason::reset);
        app.listen(true, server_port, [this, a_gone](std::uint16_t) {
            return forever_ ? Policy{.shutdown = Shutdown::never, .expect_reasons = a_gone}
                            : Policy{.shutdown = Shutdown::after_peer_fin};
        });
        app.connect(false, server_port,
                    Policy{.send_bytes = size_, .expect_reasons = forever_ ? gone : reason_bit(tcp::CloseReason::normal)});
    }
    bool step(App& app, World& w) override {
        if (!begun_) {
            for (const Endpoint& ep : app.endpoints()) {
                if (ep.on_a && ep.received.bytes >= size_ / 3) {
                    begun_ = true;
                    owed_ = ep.received.bytes + w.a.readable(ep.id) < size_;
                    hole_start_ = w.now;
                    set(w, true);
                    return true;
                }
            }
        } else if (!forever_ && !healed_ && w.now >= hole_start_ + length_) {
            healed_ = true;
            set(w, false);
            return true;
        }
        return false;
    }
    std::optional<Instant> wakeup() const override {
        return begun_ && !forever_ && !healed_ ? std::optional(hole_start_ + length_) : std::nullopt;
    }
    void observe(Instant now, bool from_a, const rte_mbuf* m) override {
        if (from_a || !begun_ || healed_) {
            return;
        }
        // The times each sequence number is sent while the hole lasts. A
        // frame to transmit is a chain (headers, then the payload's clones).
        std::uint8_t copy[RTE_MBUF_DEFAULT_DATAROOM];
        if (m->pkt_len > sizeof copy) {
            return;
        }
        const auto* bytes = static_cast<const std::uint8_t*>(rte_pktmbuf_read(m, 0, m->pkt_len, copy));
        const wire::Bytes frame(bytes, m->pkt_len);
        auto eth = wire::parse_ethernet(frame);
        auto ip = eth ? wire::parse_ipv4(eth->payload, wire::ChecksumCheck::known_good()) : Err{wire::WireError::truncated};
        auto tcp = ip ? wire::parse_tcp(ip->payload(), wire::ChecksumCheck::known_good()) : Err{wire::WireError::truncated};
        if (tcp && tcp->seg_len() != 0) {
            sends_[tcp->seq().raw()].push_back(now);
        }
    }
    void check(App&, World&, std::vector<std::string>& failures) const override {
        if (!begun_) {
            return; // the stream ended before a third of it arrived: only with a reset
        }
        std::size_t longest = 0;
        for (const auto& [seq, times] : sends_) {
            longest = std::max(longest, times.size());
            // Each wait doubles the last, up to the maximum; the wheel may
            // fire a tick late, never early. The first gap may start from
            // the original transmission (timer already running): skip it.
            for (std::size_t i = 3; i < times.size(); ++i) {
                const Duration last = times[i - 1] - times[i - 2];
                const Duration gap = times[i] - times[i - 1];
                const Duration want = std::min(last * 2, rto_max_);
                if (gap + Duration::from_ms(2) < want || gap > want + Duration::from_ms(2) + last / 8) {
                    failures.push_back(fmt::format("black hole: sequence {} resent after {} us, then {} us (want {} us)",
                                                   seq, last.us(), gap.us(), want.us()));
                }
            }
        }
        // Under heavy loss the timer may have backed off far already when the
        // hole opens; on a clean link it starts near RTO.min.
        if (clean_ && owed_ && (forever_ || length_ >= Duration::from_s(60)) && longest < 3) {
            failures.push_back(fmt::format("black hole: the most any segment was resent is {} times", longest));
        }
    }

private:
    static void set(World& w, bool on) {
        w.a_to_b.set_black_hole(on);
        w.b_to_a.set_black_hole(on);
    }
    std::uint64_t size_;
    Duration length_;
    bool forever_;
    Duration rto_max_;
    bool clean_;
    bool begun_ = false;
    bool owed_ = false; // B still had data to deliver when the hole opened
    bool healed_ = false;
    Instant hole_start_;
    std::map<std::uint32_t, std::vector<Instant>> sends_;
};

template <typename S>
std::unique_ptr<Scenario> make(Rng& r, Setup& s) {
    if constexpr (std::is_constructible_v<S, Rng&, Setup&>) {
        return std::make_unique<S>(r, s);
    } else {
        return std::make_unique<S>(r);
    }
}

constexpr ScenarioInfo all_scenarios[] = {
    {"bulk_one_way", "B sends a stream to A, then both close", make<BulkOneWay>},
    {"bulk_both_ways", "both send a stream at once, then close", make<BulkBothWays>},
    {"many_short", "2-24 overlapping request/response connections, either side closing first", make<ManyShort>},
    {"half_close", "A answers after B's FIN: data into a half-closed connection", make<HalfClose>},
    {"simultaneous", "simultaneous open and simultaneous close (CLOSING)", make<Simultaneous>},
    {"peer_abort", "one end aborts mid-transfer (RST), the other is reset", make<PeerAbort>},
    {"zero_window", "a slow reader behind a small window: persist probes, SWS avoidance", make<ZeroWindow>},
    {"black_hole", "the link loses everything for a while, or for good: RTO backoff, give-up", make<BlackHole>},
    // Hostile and broken peers, against the engine's default settings (sim/hostile/).
    {"syn_flood", "spoofed SYNs flood A's listener: transfers finish, new clients get in",
     hostile::make_syn_flood},
    {"blind_injection", "a third party forges RSTs, SYNs and data into live connections (RFC 5961)",
     hostile::make_blind_injection},
    {"ack_unsent", "a peer acknowledges data never sent or long acknowledged: ignored, limited",
     hostile::make_ack_unsent},
    {"tiny_segments", "1-byte segments, in and out of order, to a reader that waits: mbufs bounded",
     hostile::make_tiny_segments},
    {"zero_window_forever", "a peer keeps its window shut for good: persist backoff, abort",
     hostile::make_zero_window_forever},
    {"silent_peer", "hosts that never answer: connect and established give-up times",
     hostile::make_silent_peer},
    {"churn_at_max", "connections churn at the server's limit: refusals counted, slots come back",
     hostile::make_churn_at_max},
};

std::string states(engine::Engine& e) {
    std::string s;
    const auto& c = e.counters();
    for (std::size_t i = 0; i < c.connections_by_state.size(); ++i) {
        if (c.connections_by_state[i] != 0) {
            s += fmt::format(" {}x{}", c.connections_by_state[i], tcp::to_string(static_cast<tcp::TcpState>(i)));
        }
    }
    return s.empty() ? " none" : s;
}

} // namespace

std::span<const ScenarioInfo> scenarios() { return all_scenarios; }

Setup goodput_setup(double loss) {
    Setup s{base_config(true, 1), base_config(false, 2), {}, {}};
    for (auto* c : {&s.a, &s.b}) {
        c->tcp.send_buffer_bytes = 4 * 1024 * kib;
        c->tcp.recv_buffer_bytes = 4 * 1024 * kib;
        c->tcp.ooo_max_bytes = 4 * 1024 * kib;
        c->tcp.ooo_max_segments = 4096;
    }
    for (auto* p : {&s.a_to_b, &s.b_to_a}) {
        p->loss = loss;
        p->delay = Duration::from_ms(5);
        p->rate_bps = 1'000'000'000;
        p->queue_bytes = 1024 * kib;
    }
    return s;
}

std::unique_ptr<Scenario> bulk_transfer(std::uint64_t bytes) { return std::make_unique<BulkOneWay>(bytes); }

engine::EngineConfig base_config(bool a, std::uint64_t secret) {
    engine::EngineConfig c;
    c.ipv4 = a ? wire::Ipv4Addr::from_octets(10, 0, 0, 1) : wire::Ipv4Addr::from_octets(10, 0, 0, 2);
    c.mac = wire::MacAddr{{0x02, 0, 0, 0, 0, static_cast<std::uint8_t>(a ? 1 : 2)}};
    c.next_hop_mac = wire::MacAddr{{0x02, 0, 0, 0, 0, static_cast<std::uint8_t>(a ? 2 : 1)}};
    c.max_connections = 256;
    c.max_listeners = 4;
    c.syn_backlog = 64;
    c.accept_backlog = 64;
    c.reassembly_segments = 8192;
    c.time_wait_records = 256;
    c.secret = SipKey{secret, mix64(secret)};
    // TIME-WAIT must outlast the peer's FIN retransmissions, whose backoff
    // under heavy loss reaches RTO.max (120 s): RFC 9293's MSL of 2 minutes,
    // not the Linux-like default of 30 s. (Virtual time costs nothing.)
    c.tcp.msl = Duration::from_s(120);
    // At 20% loss each way a round trip fails 36% of the time, and six SYN
    // attempts all fail about once in 2,000 connections: Linux would give up
    // too. Here every connection must get through, so that a failure is a bug.
    c.tcp.syn_retries = 20;
    c.tcp.synack_retries = 20;
    c.tcp.data_retries = 20;
    return c;
}

RunResult run(const ScenarioInfo& info, std::uint64_t seed, const RunOptions& options, rte_mempool* pool) {
    std::uint64_t name_hash = 0;
    for (const char* p = info.name; *p != 0; ++p) {
        name_hash = mix64(name_hash ^ static_cast<std::uint8_t>(*p));
    }
    Rng rng(mix64(seed) ^ name_hash);
    Setup setup = random_setup(rng);
    auto scenario = info.make(rng, setup);
    return run(setup, *scenario, seed, options, pool);
}

RunResult run(Setup setup, Scenario& scenario, std::uint64_t seed, const RunOptions& options, rte_mempool* pool) {
    RunResult result;
    result.a_to_b = setup.a_to_b;
    result.b_to_a = setup.b_to_a;
    auto& failures = result.failures;
    const unsigned mbufs_before = rte_mempool_in_use_count(pool);
    {
        World w(setup.a, setup.b, setup.a_to_b, setup.b_to_a, seed, pool, setup.station);
        std::unique_ptr<PcapWriter> pcap;
        if (!options.pcap.empty()) {
            pcap = std::make_unique<PcapWriter>(options.pcap);
            if (!pcap->ok()) {
                failures.push_back("cannot write " + options.pcap);
                return result;
            }
            w.set_pcap(pcap.get());
        }
        w.set_observer([&](Instant t, bool from_a, const rte_mbuf* m) { scenario.observe(t, from_a, m); });
        App app(w, seed, options.verbose);
        const Instant start = w.now;
        const Instant deadline = start + setup.deadline;
        scenario.start(app, w);
        // Run to completion: move frames and let the applications act until
        // nothing moves, then jump to the next timer or arrival.
        for (std::uint64_t rounds = 0;; ++rounds) {
            if (rounds == 20'000'000) {
                failures.push_back("livelock: 20 million rounds without finishing");
                break;
            }
            const bool moved = w.pump();
            const bool acted = app.step() | scenario.step(app, w);
            if (moved || acted) {
                continue;
            }
            if (app.all_closed() && w.quiet() && scenario.finished()) {
                break;
            }
            std::optional<Instant> wake = app.wakeup();
            if (auto s = scenario.wakeup(); s && (!wake || *s < *wake)) {
                wake = s;
            }
            if (!w.advance(wake, deadline)) {
                failures.push_back(fmt::format(
                    "{} at {:.3f} s: connections on A:{}, on B:{}; timers {} and {}; frames in flight {}",
                    w.now >= deadline ? "deadline passed" : "stuck (nothing scheduled)",
                    static_cast<double>((w.now - start).us()) / 1e6, states(w.a), states(w.b), w.a.timers(),
                    w.b.timers(), w.a_to_b.in_flight() + w.b_to_a.in_flight()));
                break;
            }
        }
        // The scenario's own diagnosis first: it names the cause.
        scenario.check(app, w, failures);
        app.check(failures);
        result.virtual_time = w.now - start;
        result.last_read_time = std::max(app.last_read(), start) - start;
        result.links = w.a_to_b.counters();
        result.links += w.b_to_a.counters();
        for (const Endpoint& ep : app.endpoints()) {
            result.bytes_delivered += ep.received.bytes;
        }
        for (engine::Engine* e : {&w.a, &w.b}) {
            const engine::EngineCounters& c = e->counters();
            result.retransmits += c.tcp.retransmits;
            result.timeouts += c.tcp.timeouts;
            if (options.verbose) {
                std::string drops;
                for (std::size_t i = 0; i < tcp::drop_reason_count; ++i) {
                    if (c.tcp.drops.count[i] != 0) {
                        drops += fmt::format(" {}={}", tcp::to_string(static_cast<tcp::DropReason>(i)), c.tcp.drops.count[i]);
                    }
                }
                for (std::size_t i = 0; i < engine::frame_drop_count; ++i) {
                    if (c.frame_drops[i] != 0) {
                        drops += fmt::format(" {}={}", engine::to_string(static_cast<engine::FrameDrop>(i)), c.frame_drops[i]);
                    }
                }
                fmt::print("engine {}: segments in {} out {}, retransmits {}, timeouts {}, drops:{}\n",
                           e == &w.a ? 'A' : 'B', c.tcp.segments_in, c.tcp.segments_out, c.tcp.retransmits,
                           c.tcp.timeouts, drops.empty() ? " none" : drops);
            }
        }
    }
    const unsigned mbufs_after = rte_mempool_in_use_count(pool);
    if (mbufs_after != mbufs_before) {
        failures.push_back(fmt::format("mbufs: {} in use before, {} after", mbufs_before, mbufs_after));
    }
    return result;
}

} // namespace synack::sim
