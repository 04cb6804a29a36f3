#pragma once
// A TCB between a scripted peer and the test: send(seg) delivers a segment
// the peer "sent", expect_tx() returns the next segment we sent (parsed),
// advance(d) moves virtual time and fires due timers. Segments are TcpRepr
// values with designated initialisers, as smoltcp's tests build them.

#include <synack/tcp/tcp.hpp>
#include <synack/wire/tcp.hpp>

#include "unit/test_support.hpp"

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace synack::test {

namespace flag = wire::tcp_flag;

inline constexpr std::uint16_t local_port = 80;
inline constexpr std::uint16_t remote_port = 49152;
inline const wire::Seq32 local_iss{10000};
inline const wire::Seq32 remote_iss{50000};

/// A segment we sent, parsed back.
struct Sent {
    wire::TcpRepr hdr;
    std::string payload;
    std::size_t header_len = 0;
};

class TcpFixture {
public:
    explicit TcpFixture(tcp::TcpConfig cfg = quiet_config())
        : config(cfg), wheel(start()), ooo_pool(1024), out(1024), events(1024), tcb(config) {
        tcb.tuple = {tcp::FourTuple::mapped(wire::Ipv4Addr::from_octets(10, 0, 0, 1)),
                     tcp::FourTuple::mapped(wire::Ipv4Addr::from_octets(10, 0, 0, 2)), local_port,
                     remote_port};
        tcb.user_id = 7;
        mbufs_at_start = rte_mempool_in_use_count(pool());
    }

    ~TcpFixture() {
        auto e = env();
        tcp::release_resources(tcb, e);
        while (!out.empty()) {
            (void)out.pop();
        }
    }

    /// Timestamps and SACK off, so that segments are easy to state; tests of
    /// those options turn them on.
    static tcp::TcpConfig quiet_config() {
        tcp::TcpConfig c;
        c.timestamps = false;
        c.sack = false;
        c.window_scaling = false;
        c.recv_buffer_bytes = 64 * 1024;
        return c;
    }

    static time::Instant start() { return time::Instant::from_us(1'000'000'000); }

    tcp::TcpEnv env() {
        return tcp::TcpEnv{now, config, wheel, pool(), pool(), ooo_pool, out, events, counters, rx_pressure};
    }

    /// The peer's segment arrives; then output() runs, as the engine does
    /// after each burst.
    void send(wire::TcpRepr seg, std::string_view payload = {}) {
        seg.src_port = remote_port;
        seg.dst_port = local_port;
        std::vector<std::uint8_t> bytes(seg.header_len());
        seg.emit(bytes);
        bytes.insert(bytes.end(), payload.begin(), payload.end());
        wire::MbufPtr m = mbuf_from(bytes);
        auto parsed = wire::parse_tcp(bytes, wire::ChecksumCheck::known_good());
        REQUIRE(parsed.ok());
        auto e = env();
        tcp::segment_arrives(tcb, tcp::Incoming{*parsed, std::move(m),
                                                static_cast<std::uint16_t>(seg.header_len())},
                             e);
        tcp::output(tcb, e);
    }

    /// The next segment we sent; fails the test when there is none.
    Sent expect_tx() {
        REQUIRE_FALSE(out.empty());
        tcp::OutSegment o = out.pop();
        REQUIRE(o.tuple == tcb.tuple);
        const std::vector<std::uint8_t> bytes = bytes_of(o.packet.get());
        auto parsed = wire::parse_tcp(bytes, wire::ChecksumCheck::known_good());
        REQUIRE(parsed.ok());
        REQUIRE(o.packet->l4_len == parsed->header_len());
        Sent s;
        s.hdr = {parsed->src_port(), parsed->dst_port(), parsed->seq(), parsed->ack(),
                 parsed->flags(), parsed->window(), parsed->urgent_pointer(), parsed->options()};
        s.payload.assign(parsed->payload().begin(), parsed->payload().end());
        s.header_len = parsed->header_len();
        return s;
    }

    void expect_no_tx() {
        if (!out.empty()) {
            const Sent s = expect_tx();
            FAIL("unexpected segment: flags 0x" << std::hex << int(s.hdr.flags) << std::dec
                                                << " seq " << s.hdr.seq.raw() << " ack "
                                                << s.hdr.ack.raw() << " len " << s.payload.size());
        }
    }

    /// Moves time on and fires the timers due, then runs output().
    void advance(time::Duration d) {
        now = now + d;
        auto e = env();
        wheel.expire(now, [&](time::TimerNode& n) noexcept {
            tcp::timer_fired(tcb, static_cast<tcp::TimerKind>(n.kind()), e);
        });
        tcp::output(tcb, e);
    }

    /// The application's events so far, oldest first (and forgets them).
    std::vector<tcp::ConnEvent> take_events() {
        std::vector<tcp::ConnEvent> v;
        while (!events.empty()) {
            v.push_back(events.pop().event);
        }
        return v;
    }

    bool saw_event(tcp::ConnEvent want) {
        for (auto e : take_events()) {
            if (e == want) {
                return true;
            }
        }
        return false;
    }

    /// The application writes bytes (copied into a chain of fresh mbufs here).
    void app_send(std::string_view data) {
        constexpr std::size_t chunk = 1000;
        const auto* p = reinterpret_cast<const std::uint8_t*>(data.data());
        wire::MbufPtr m = mbuf_from(std::span(p, std::min(chunk, data.size())));
        for (std::size_t at = chunk; at < data.size(); at += chunk) {
            wire::MbufPtr next = mbuf_from(std::span(p + at, std::min(chunk, data.size() - at)));
            REQUIRE(rte_pktmbuf_chain(m.get(), next.release()) == 0);
        }
        auto e = env();
        REQUIRE(tcp::send(tcb, m, e).ok());
        tcp::output(tcb, e); // as the engine does once the application's calls are done
    }

    /// Everything readable, copied out, and consumed.
    std::string app_read() {
        std::string s;
        wire::Bytes spans[64];
        const std::size_t n = tcb.recv.peek(spans, 64);
        for (std::size_t i = 0; i < n; ++i) {
            s.append(spans[i].begin(), spans[i].end());
        }
        app_consume(static_cast<std::uint32_t>(s.size()));
        return s;
    }

    /// The application releases n received bytes; then output() runs, as the
    /// engine does once the application's calls are done.
    void app_consume(std::uint32_t n) {
        auto e = env();
        tcp::consumed(tcb, n, e);
        tcp::output(tcb, e);
    }

    // --- standard states ---

    /// LISTEN got the peer's SYN: SYN-RECEIVED, SYN-ACK sent and consumed.
    void make_syn_received(wire::TcpOptions peer_options = {}) {
        wire::TcpRepr syn{.seq = remote_iss, .flags = flag::syn, .window = 64240};
        syn.options = peer_options;
        syn.options.mss = syn.options.mss ? syn.options.mss : std::optional<std::uint16_t>(1460);
        syn.src_port = remote_port;
        syn.dst_port = local_port;
        std::vector<std::uint8_t> bytes(syn.header_len());
        syn.emit(bytes);
        auto parsed = wire::parse_tcp(bytes, wire::ChecksumCheck::known_good());
        REQUIRE(parsed.ok());
        auto e = env();
        REQUIRE(tcp::open_passive(tcb, *parsed, local_iss, e));
        REQUIRE(tcb.state == tcp::TcpState::syn_received);
        (void)expect_tx();
    }

    /// A passive open completed: ESTABLISHED, nothing pending.
    void make_established() {
        make_syn_received();
        send({.seq = remote_iss + 1, .ack = local_iss + 1, .flags = flag::ack, .window = 64240});
        REQUIRE(tcb.state == tcp::TcpState::established);
        take_events();
        expect_no_tx();
    }

    /// We closed first; the peer's FIN acknowledged ours: TIME-WAIT, the ACK
    /// of that FIN sent and consumed.
    void make_time_wait() {
        make_established();
        auto e = env();
        tcp::shutdown_write(tcb, e);
        (void)expect_tx();
        send({.seq = remote_iss + 1, .ack = local_iss + 2, .flags = flag::fin | flag::ack, .window = 64240});
        REQUIRE(tcb.state == tcp::TcpState::time_wait);
        (void)expect_tx();
    }

    tcp::TcpConfig config;
    time::Instant now = start();
    time::TimerWheel wheel;
    tcp::ReassemblyPool ooo_pool;
    tcp::FixedQueue<tcp::OutSegment> out;
    tcp::FixedQueue<tcp::EventRecord> events;
    tcp::TcpCounters counters;
    tcp::RxPressure rx_pressure = tcp::RxPressure::none;
    tcp::Tcb tcb;
    unsigned mbufs_at_start = 0;
};

} // namespace synack::test
