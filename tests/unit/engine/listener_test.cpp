// LISTEN and SYN-RECEIVED in the engine: half-open connections kept as
// records (RFC 4987 section 3.3), SYN cookies (RFC 4987 section 3.6), and
// what listen/unlisten do to them. Driven by a scripted raw peer.

#include "unit/engine/raw_peer.hpp"

#include <synack/tcp/syn_cookie.hpp>

using namespace synack;
using namespace synack::test;
using engine::Engine;
using time::Duration;
using wire::Seq32;
namespace flag = wire::tcp_flag;

namespace {

constexpr std::uint16_t port = 80;
const Seq32 peer_isn{7000};

time::Instant start() { return time::Instant::from_us(3'000'000'000); }

wire::TcpRepr syn_from(std::uint16_t src_port, wire::TcpOptions options = {}) {
    wire::TcpRepr syn{.src_port = src_port, .dst_port = port, .seq = peer_isn, .flags = flag::syn, .window = 65535};
    syn.options = options;
    if (!syn.options.mss) {
        syn.options.mss = 1460;
    }
    return syn;
}

wire::TcpRepr ack_from(std::uint16_t src_port, Seq32 ack, std::uint16_t window = 65535) {
    return {.src_port = src_port, .dst_port = port, .seq = peer_isn + 1, .ack = ack, .flags = flag::ack,
            .window = window};
}

wire::TcpOptions all_options() {
    wire::TcpOptions o;
    o.mss = 1400;
    o.window_scale = 7;
    o.sack_permitted = true;
    o.timestamps = wire::Timestamps{100, 0};
    return o;
}

} // namespace

TEST_CASE("LISTEN: SYN and FIN together is a scan: dropped without an answer", "[engine][listen]") {
    Engine e(RawPeer::config(), pool(), start());
    RawPeer peer(e, start());
    REQUIRE(e.listen(port).ok());
    wire::TcpRepr syn = syn_from(40000);
    syn.flags = flag::syn | flag::fin;
    peer.send(syn);
    REQUIRE(peer.heard().empty());
    REQUIRE(e.half_open_records() == 0);
    REQUIRE(e.counters().tcp.drops[tcp::DropReason::listen_syn_fin] == 1);
}

TEST_CASE("LISTEN: a SYN is answered from a record; the ACK of ISS + 1 makes the connection"
          " (RFC 9293 3.10.7.2, RFC 4987 3.3)",
          "[engine][listen]") {
    Engine e(RawPeer::config(), pool(), start());
    RawPeer peer(e, start());
    REQUIRE(e.listen(port).ok());
    peer.send(syn_from(40000, all_options()));
    const Heard synack = peer.expect_one();
    REQUIRE(synack.hdr.flags == (flag::syn | flag::ack));
    REQUIRE(synack.hdr.ack == peer_isn + 1);
    // Only what the peer offered, and the options we are configured for.
    REQUIRE(synack.hdr.options.mss == 1460);
    REQUIRE(synack.hdr.options.window_scale.has_value());
    REQUIRE(synack.hdr.options.sack_permitted);
    REQUIRE(synack.hdr.options.timestamps->echo_reply == 100);
    REQUIRE(e.half_open_records() == 1);
    REQUIRE(e.connections() == 0);

    wire::TcpRepr ack = ack_from(40000, synack.hdr.seq + 1);
    ack.options.timestamps = wire::Timestamps{101, synack.hdr.options.timestamps->value};
    peer.send(ack);
    REQUIRE(e.half_open_records() == 0);
    REQUIRE(e.connections() == 1);
    const auto id = e.accept(port);
    REQUIRE(id.has_value());
    REQUIRE(e.state(*id) == tcp::TcpState::established);
}

TEST_CASE("SYN-RECEIVED record: the SYN-ACK is resent with backoff, then given up after synack_retries"
          " (RFC 6298 5.5)",
          "[engine][listen]") {
    engine::EngineConfig c = RawPeer::config();
    c.tcp.synack_retries = 3;
    Engine e(c, pool(), start());
    RawPeer peer(e, start());
    REQUIRE(e.listen(port).ok());
    peer.send(syn_from(40000));
    (void)peer.expect_one();
    Duration wait = c.tcp.rto_initial;
    for (int i = 0; i < 3; ++i) {
        peer.advance(wait - Duration::from_ms(20));
        REQUIRE(peer.heard().empty()); // never early
        peer.advance(Duration::from_ms(40));
        REQUIRE(peer.expect_one().hdr.flags == (flag::syn | flag::ack));
        wait = wait * 2;
    }
    peer.advance(wait + Duration::from_ms(40));
    REQUIRE(peer.heard().empty());
    REQUIRE(e.half_open_records() == 0);
    REQUIRE(e.timers() == 0);
    REQUIRE(e.counters().half_open_timed_out == 1);
    REQUIRE(e.counters().tcp.retransmits == 3);
}

TEST_CASE("SYN-RECEIVED record: the same SYN again draws the SYN-ACK again", "[engine][listen]") {
    Engine e(RawPeer::config(), pool(), start());
    RawPeer peer(e, start());
    REQUIRE(e.listen(port).ok());
    peer.send(syn_from(40000));
    const Heard first = peer.expect_one();
    peer.send(syn_from(40000));
    const Heard again = peer.expect_one();
    REQUIRE(again.hdr.seq == first.hdr.seq);
    REQUIRE(again.hdr.flags == (flag::syn | flag::ack));
    REQUIRE(e.half_open_records() == 1);
}

TEST_CASE("SYN-RECEIVED record: a RST at exactly RCV.NXT returns to LISTEN, another is ignored"
          " (RFC 9293 3.10.7.4, RFC 5961 3.2)",
          "[engine][listen][rfc5961]") {
    Engine e(RawPeer::config(), pool(), start());
    RawPeer peer(e, start());
    REQUIRE(e.listen(port).ok());
    peer.send(syn_from(40000));
    (void)peer.expect_one();
    peer.send({.src_port = 40000, .dst_port = port, .seq = peer_isn + 100, .flags = flag::rst});
    REQUIRE(e.half_open_records() == 1);
    peer.send({.src_port = 40000, .dst_port = port, .seq = peer_isn + 1, .flags = flag::rst});
    REQUIRE(e.half_open_records() == 0);
    REQUIRE(peer.heard().empty());
    REQUIRE(e.timers() == 0);
}

TEST_CASE("SYN-RECEIVED record: an ACK of anything but ISS + 1 gets <SEQ=SEG.ACK><CTL=RST> (RFC 9293"
          " 3.10.7.4)",
          "[engine][listen]") {
    Engine e(RawPeer::config(), pool(), start());
    RawPeer peer(e, start());
    REQUIRE(e.listen(port).ok());
    peer.send(syn_from(40000));
    const Heard synack = peer.expect_one();
    peer.send(ack_from(40000, synack.hdr.seq + 5));
    const Heard rst = peer.expect_one();
    REQUIRE(rst.hdr.flags == flag::rst);
    REQUIRE(rst.hdr.seq == synack.hdr.seq + 5);
    REQUIRE(e.half_open_records() == 1);
    REQUIRE(e.connections() == 0);
}

TEST_CASE("SYN-RECEIVED record: a full accept queue drops the completing ACK and keeps the record, so"
          " that the peer's next ACK gets in",
          "[engine][listen]") {
    engine::EngineConfig c = RawPeer::config();
    c.accept_backlog = 1;
    Engine e(c, pool(), start());
    RawPeer peer(e, start());
    REQUIRE(e.listen(port).ok());
    for (std::uint16_t p : {40000, 40001}) {
        peer.send(syn_from(p));
    }
    const std::vector<Heard> synacks = peer.heard();
    REQUIRE(synacks.size() == 2);
    peer.send(ack_from(40000, synacks[0].hdr.seq + 1));
    peer.send(ack_from(40001, synacks[1].hdr.seq + 1));
    REQUIRE(e.connections() == 1);
    REQUIRE(e.half_open_records() == 1);
    REQUIRE(e.counters().dropped(engine::FrameDrop::accept_queue_full) == 1);
    REQUIRE(e.accept(port).has_value());
    peer.send(ack_from(40001, synacks[1].hdr.seq + 1));
    REQUIRE(e.connections() == 2);
    REQUIRE(e.half_open_records() == 0);
}

TEST_CASE("SYN cookies: beyond the SYN backlog the SYN-ACK carries a cookie and nothing is kept; its"
          " ACK opens the connection with the options the SYN asked for (RFC 4987 3.6)",
          "[engine][listen][rfc4987]") {
    engine::EngineConfig c = RawPeer::config();
    c.syn_backlog = 1;
    Engine e(c, pool(), start());
    RawPeer peer(e, start());
    REQUIRE(e.listen(port).ok());
    peer.send(syn_from(40000)); // takes the one record
    (void)peer.expect_one();
    peer.send(syn_from(40001, all_options()));
    const Heard synack = peer.expect_one();
    REQUIRE(e.half_open_records() == 1);
    REQUIRE(e.counters().syn_cookies_sent == 1);
    // The cookie: the MSS asked for (1400) is in the table.
    const Seq32 iss = synack.hdr.seq;
    REQUIRE(tcp::cookie_mss_table[(iss.raw() >> 24) & 7] == 1400);
    REQUIRE(synack.hdr.options.window_scale.has_value());
    REQUIRE(synack.hdr.options.sack_permitted);
    REQUIRE(e.timers() == 1); // the record's, none for the cookie

    wire::TcpRepr ack = ack_from(40001, iss + 1, 100);
    ack.options.timestamps = wire::Timestamps{101, synack.hdr.options.timestamps->value};
    peer.send(ack);
    REQUIRE(e.counters().syn_cookies_accepted == 1);
    const auto id = e.accept(port);
    REQUIRE(id.has_value());
    REQUIRE(e.state(*id) == tcp::TcpState::established);
    // The peer's window scale came back through the timestamp: a window of
    // 100 means 12,800 bytes, sent at once in segments of the cookie's MSS.
    const std::vector<std::uint8_t> chunk(1000, 'c');
    for (int i = 0; i < 16; ++i) {
        wire::MbufPtr m = mbuf_from(chunk);
        REQUIRE(e.send(*id, m).ok());
    }
    std::size_t sent = 0;
    for (const Heard& h : peer.heard()) {
        REQUIRE(h.payload.size() <= 1400 - 12);
        sent += h.payload.size();
    }
    REQUIRE(sent > 100);
    REQUIRE(sent <= 100u << 7);
}

TEST_CASE("SYN cookies: without timestamps a cookie connection has no window scaling and no SACK, and"
          " its MSS is the table's entry below the peer's",
          "[engine][listen][rfc4987]") {
    engine::EngineConfig c = RawPeer::config();
    c.syn_cookies = engine::SynCookieMode::always;
    Engine e(c, pool(), start());
    RawPeer peer(e, start());
    REQUIRE(e.listen(port).ok());
    wire::TcpOptions o = all_options();
    o.timestamps.reset();
    o.mss = 1450;
    peer.send(syn_from(40000, o));
    const Heard synack = peer.expect_one();
    REQUIRE(e.half_open_records() == 0);
    REQUIRE_FALSE(synack.hdr.options.window_scale.has_value());
    REQUIRE_FALSE(synack.hdr.options.sack_permitted);
    REQUIRE_FALSE(synack.hdr.options.timestamps.has_value());
    REQUIRE(tcp::cookie_mss_table[(synack.hdr.seq.raw() >> 24) & 7] == 1440);
    peer.send(ack_from(40000, synack.hdr.seq + 1));
    REQUIRE(e.accept(port).has_value());
}

TEST_CASE("SYN cookies: an ACK whose cookie does not check opens nothing and is dropped; with no cookie"
          " sent lately, none is checked and the ACK is reset (RFC 9293 3.10.7.2)",
          "[engine][listen][rfc4987]") {
    engine::EngineConfig c = RawPeer::config();
    c.syn_cookies = engine::SynCookieMode::always;
    Engine e(c, pool(), start());
    RawPeer peer(e, start());
    REQUIRE(e.listen(port).ok());
    // Nothing handed out yet: a guess is an ACK for no connection.
    peer.send(ack_from(40000, Seq32(0x12345678)));
    REQUIRE(peer.expect_one().hdr.flags == flag::rst);
    REQUIRE(e.counters().syn_cookies_rejected == 0);

    peer.send(syn_from(40001));
    const Heard synack = peer.expect_one();
    peer.send(ack_from(40001, synack.hdr.seq + 2)); // off by one
    REQUIRE(peer.heard().empty());
    peer.send(ack_from(40002, synack.hdr.seq + 1)); // another tuple
    REQUIRE(peer.heard().empty());
    REQUIRE(e.counters().syn_cookies_rejected == 2);
    REQUIRE(e.connections() == 0);
    // A cookie goes stale after two periods of 64 s at most; then ACKs to
    // the listener are reset again.
    peer.advance(Duration::from_s(129));
    peer.send(ack_from(40001, synack.hdr.seq + 1));
    REQUIRE(peer.expect_one().hdr.flags == flag::rst);
    REQUIRE(e.connections() == 0);
}

TEST_CASE("SYN cookies: a flood of SYNs from many sources beyond the backlog keeps no state, and a"
          " legitimate peer still connects",
          "[engine][listen][rfc4987]") {
    engine::EngineConfig c = RawPeer::config();
    c.syn_backlog = 16;
    Engine e(c, pool(), start());
    RawPeer peer(e, start());
    REQUIRE(e.listen(port).ok());
    for (std::uint32_t i = 0; i < 2000; ++i) {
        const wire::Ipv4Addr spoofed{wire::Ipv4Addr::from_octets(198, 18, 0, 0).value + i};
        peer.send(syn_from(static_cast<std::uint16_t>(1024 + i % 60000)), {}, spoofed);
        (void)peer.heard();
    }
    REQUIRE(e.half_open_records() == 16);
    REQUIRE(e.counters().syn_cookies_sent == 2000 - 16);
    peer.send(syn_from(40000, all_options()));
    const Heard synack = peer.expect_one();
    wire::TcpRepr ack = ack_from(40000, synack.hdr.seq + 1);
    ack.options.timestamps = wire::Timestamps{101, synack.hdr.options.timestamps->value};
    peer.send(ack);
    REQUIRE(e.accept(port).has_value());
}

TEST_CASE("unlisten forgets the half-open connections and resets those never accepted; listening again"
          " starts with an empty backlog",
          "[engine][listen]") {
    engine::EngineConfig c = RawPeer::config();
    c.syn_backlog = 2;
    c.syn_cookies = engine::SynCookieMode::off;
    Engine e(c, pool(), start());
    RawPeer peer(e, start());
    REQUIRE(e.listen(port).ok());
    peer.send(syn_from(40000));
    peer.send(syn_from(40001));
    const std::vector<Heard> synacks = peer.heard();
    REQUIRE(synacks.size() == 2);
    peer.send(ack_from(40000, synacks[0].hdr.seq + 1)); // established, never accepted
    REQUIRE(e.connections() == 1);

    e.unlisten(port);
    REQUIRE(e.half_open_records() == 0);
    const Heard rst = peer.expect_one();
    REQUIRE(rst.hdr.flags == flag::rst);
    REQUIRE(rst.hdr.dst_port == 40000);
    REQUIRE(e.connections() == 0);
    REQUIRE(e.timers() == 0);
    // The handshake left half-open completes after the listener is gone: reset.
    peer.send(ack_from(40001, synacks[1].hdr.seq + 1));
    REQUIRE(peer.expect_one().hdr.flags == flag::rst);
    REQUIRE(e.connections() == 0);

    // A new listener on the port has its whole backlog.
    REQUIRE(e.listen(port).ok());
    peer.send(syn_from(41000));
    peer.send(syn_from(41001));
    peer.send(syn_from(41002));
    REQUIRE(peer.heard().size() == 2);
    REQUIRE(e.half_open_records() == 2);
    REQUIRE(e.counters().dropped(engine::FrameDrop::syn_backlog_full) == 1);
}

TEST_CASE("a SYN-ACK that never left for want of an ARP answer is not counted as sent or resent",
          "[engine][listen]") {
    engine::EngineConfig c = RawPeer::config();
    c.next_hop_mac.reset(); // resolve by ARP: the spoofed source never answers
    c.tcp.synack_retries = 3;
    Engine e(c, pool(), start());
    RawPeer peer(e, start());
    REQUIRE(e.listen(port).ok());
    peer.send(syn_from(40000), {}, wire::Ipv4Addr::from_octets(10, 7, 0, 99));
    for (int i = 0; i < 40; ++i) {
        peer.advance(Duration::from_s(1));
        (void)peer.heard(); // ARP requests only
    }
    REQUIRE(e.half_open_records() == 0);
    REQUIRE(e.counters().tcp.segments_out == 0);
    REQUIRE(e.counters().tcp.retransmits == 0);
    REQUIRE(e.counters().neighbors.pending_dropped > 0);
}

TEST_CASE("SYN cookies: an ACK with timestamps answering a cookie sent without them gets no timestamps,"
          " window scale or SACK (RFC 7323 3.2: only when both SYNs carried the option)",
          "[engine][listen][rfc4987]") {
    engine::EngineConfig c = RawPeer::config();
    c.syn_cookies = engine::SynCookieMode::always;
    Engine e(c, pool(), start());
    RawPeer peer(e, start());
    REQUIRE(e.listen(port).ok());
    peer.send(syn_from(40000)); // MSS only
    const Heard synack = peer.expect_one();
    REQUIRE_FALSE(synack.hdr.options.timestamps.has_value());
    wire::TcpRepr ack = ack_from(40000, synack.hdr.seq + 1, 1000);
    ack.options.timestamps = wire::Timestamps{5, 0}; // TSecr of nothing we sent
    peer.send(ack);
    const auto id = e.accept(port);
    REQUIRE(id.has_value());
    // The window it sends is unscaled, and no segment of ours carries timestamps.
    const std::vector<std::uint8_t> chunk(100, 'c');
    wire::MbufPtr m = mbuf_from(chunk);
    REQUIRE(e.send(*id, m).ok());
    const Heard data = peer.expect_one();
    REQUIRE_FALSE(data.hdr.options.timestamps.has_value());
    REQUIRE(data.hdr.window == 65535);
}

TEST_CASE("a SYN that reopens a tuple from TIME-WAIT gets an ISS beyond every sequence number of the"
          " connection before (RFC 9293 3.6.1, RFC 6191)",
          "[engine][listen][rfc6191]") {
    engine::EngineConfig c = RawPeer::config();
    c.tcp.timestamps = false;
    Engine e(c, pool(), start());
    RawPeer peer(e, start());
    REQUIRE(e.listen(port).ok());
    peer.send(syn_from(40000));
    const Heard synack = peer.expect_one();
    peer.send(ack_from(40000, synack.hdr.seq + 1));
    const auto id = e.accept(port);
    REQUIRE(id.has_value());
    // We send data and close first; the peer acknowledges and closes: TIME-WAIT here.
    const std::vector<std::uint8_t> chunk(1000, 'c');
    wire::MbufPtr m = mbuf_from(chunk);
    REQUIRE(e.send(*id, m).ok());
    e.close(*id);
    const Seq32 snd_nxt = synack.hdr.seq + 1 + 1000 + 1;
    (void)peer.heard();
    peer.send({.src_port = 40000, .dst_port = port, .seq = peer_isn + 1, .ack = snd_nxt,
               .flags = flag::fin | flag::ack, .window = 65535});
    (void)peer.heard();
    REQUIRE(e.time_wait_records() == 1);
    // At once, in the same microsecond of the ISN clock: a new SYN.
    wire::TcpRepr again = syn_from(40000);
    again.seq = peer_isn + 100'000;
    peer.send(again);
    const Heard second = peer.expect_one();
    REQUIRE(second.hdr.flags == (flag::syn | flag::ack));
    REQUIRE(after(second.hdr.seq, snd_nxt + 65535));
}

TEST_CASE("a connection closed by one segment of a burst is no connection for the rest of it (RFC 9293"
          " 3.10.7.1): one closed event, no processing by a closed TCB",
          "[engine]") {
    Engine e(RawPeer::config(), pool(), start());
    RawPeer peer(e, start());
    const auto id = e.connect(RawPeer::peer_ip, 9000, peer.now, 41000);
    REQUIRE(id.ok());
    const Heard syn = peer.expect_one();
    peer.send({.src_port = 9000, .dst_port = 41000, .seq = Seq32(500), .ack = syn.hdr.seq + 1,
               .flags = flag::syn | flag::ack, .window = 65535});
    (void)peer.heard();
    std::vector<engine::Event> ev(16);
    ev.resize(e.events(ev.data(), ev.size()));
    // A RST at RCV.NXT, then another and an ACK, in one burst.
    const wire::TcpRepr rst{.src_port = 9000, .dst_port = 41000, .seq = Seq32(501), .flags = flag::rst};
    const wire::TcpRepr ack{.src_port = 9000, .dst_port = 41000, .seq = Seq32(501), .ack = syn.hdr.seq + 1,
                            .flags = flag::ack, .window = 65535};
    peer.send_burst({rst, rst, ack});
    ev.assign(16, {});
    ev.resize(e.events(ev.data(), ev.size()));
    REQUIRE(ev.size() == 1);
    REQUIRE(ev[0].kind == tcp::ConnEvent::closed);
    REQUIRE(ev[0].reason == tcp::CloseReason::reset);
    REQUIRE(e.connections() == 0);
}

TEST_CASE("SYN cookies: data, or an ACK, that overtakes the ACK opening a cookie's connection is dropped"
          " without a RST; the ACK then opens it",
          "[engine][listen][rfc4987]") {
    engine::EngineConfig c = RawPeer::config();
    c.syn_cookies = engine::SynCookieMode::always;
    Engine e(c, pool(), start());
    RawPeer peer(e, start());
    REQUIRE(e.listen(port).ok());
    peer.send(syn_from(40000));
    const Heard synack = peer.expect_one();
    wire::TcpRepr data = ack_from(40000, synack.hdr.seq + 1);
    data.seq = peer_isn + 1 + 5; // the second piece of the request, first to arrive
    peer.send(data, "world");
    wire::TcpRepr later = ack_from(40000, synack.hdr.seq + 1);
    later.seq = peer_isn + 1 + 10;
    peer.send(later);
    REQUIRE(peer.heard().empty());
    REQUIRE(e.connections() == 0);
    peer.send(ack_from(40000, synack.hdr.seq + 1));
    REQUIRE(e.accept(port).has_value());
}
