// The public API: two Stacks joined back to back on a virtual clock, used as
// an application would use them (ready list, take, send, write, options).

#include <synack/api/stack.hpp>
#include <synack/engine/engine.hpp>
#include <synack/wire/ethernet.hpp>
#include <synack/wire/ipv4.hpp>
#include <synack/wire/tcp.hpp>

#include "unit/test_support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

using namespace synack;
using time::Duration;

namespace {

const Ipv4Addr ip_a = Ipv4Addr::from_octets(10, 8, 0, 1);
const Ipv4Addr ip_b = Ipv4Addr::from_octets(10, 8, 0, 2);
const MacAddr mac_a{{0x02, 0, 0, 0, 8, 1}};
const MacAddr mac_b{{0x02, 0, 0, 0, 8, 2}};

StackConfig config(Ipv4Addr ip, MacAddr mac, MacAddr peer) {
    StackConfig c;
    c.ipv4 = ip;
    c.mac = mac;
    c.next_hop_mac = peer;
    c.max_connections = 64;
    c.no_delay = true;
    c.secret = {1, 2,  3,  4,  5,  6,  7,  8,
                9, 10, 11, 12, 13, 14, 15, static_cast<std::uint8_t>(ip.value)};
    return c;
}

/// The TCP segment of a frame a stack sent.
struct Seen {
    std::uint8_t flags = 0;
    wire::Seq32 seq;
    std::size_t payload = 0;
};

Seen tcp_of(const rte_mbuf* frame) {
    const std::vector<std::uint8_t> bytes = synack::test::bytes_of(frame);
    auto eth = wire::parse_ethernet(bytes);
    REQUIRE(eth.ok());
    auto ip = wire::parse_ipv4(eth->payload, wire::ChecksumCheck::verify());
    REQUIRE(ip.ok());
    auto seg = wire::parse_tcp(ip->payload(), wire::ChecksumCheck::known_good());
    REQUIRE(seg.ok());
    return {seg->flags(), seg->seq(), seg->payload().size()};
}

struct Pair {
    time::Instant now = time::Instant::from_us(7'000'000);
    Stack a{config(ip_a, mac_a, mac_b), synack::test::pool(), now};
    Stack b{config(ip_b, mac_b, mac_a), synack::test::pool(), now};

    /// Moves every frame `from` has ready into `to` as one burst, each copied
    /// into a fresh mbuf as a wire would (the sent mbufs are freed).
    std::size_t shuttle(Stack& from, Stack& to) {
        std::vector<rte_mbuf*> burst;
        rte_mbuf* out[32];
        while (const std::uint16_t n = from.drain(out, 32)) {
            for (std::uint16_t i = 0; i < n; ++i) {
                wire::MbufPtr sent(out[i]);
                burst.push_back(
                    synack::test::mbuf_from(synack::test::bytes_of(sent.get())).release());
            }
        }
        if (!burst.empty()) {
            to.input(burst.data(), static_cast<std::uint16_t>(burst.size()), now);
        }
        return burst.size();
    }

    /// Polls, delivers both ways and fires timers until nothing moves or
    /// `limit` of virtual time has passed.
    void run(Duration limit) {
        const time::Instant end = now + limit;
        for (int guard = 0; guard < 100'000; ++guard) {
            a.poll(now);
            b.poll(now);
            if (shuttle(a, b) + shuttle(b, a) != 0) {
                continue;
            }
            std::optional<time::Instant> w = a.next_wakeup();
            if (auto wb = b.next_wakeup(); !w || (wb && *wb < *w)) {
                w = wb;
            }
            if (!w || *w > end) {
                now = end;
                a.poll(now);
                b.poll(now);
                if (shuttle(a, b) + shuttle(b, a) == 0) {
                    return;
                }
                continue;
            }
            now = std::max(now, *w);
        }
        FAIL("the pair did not settle");
    }
};

std::vector<Ready> ready_of(Stack& s) {
    std::vector<Ready> v(256);
    v.resize(s.ready(v.data(), v.size()));
    return v;
}

std::optional<Ready> entry_for(const std::vector<Ready>& v, Conn c) {
    for (const Ready& r : v) {
        if (r.conn == c) {
            return r;
        }
    }
    return std::nullopt;
}

/// A connection from b to a's port, established, its ready entries taken.
struct Connected : Pair {
    Conn client;
    Conn server;
    explicit Connected(std::uint16_t port = 80) {
        REQUIRE(a.listen(port).ok());
        client = connect(port);
    }
    /// One more connection to port (listening already); returns b's end and
    /// sets server to a's.
    Conn connect(std::uint16_t port) {
        auto c = b.connect(ip_a, port);
        REQUIRE(c.ok());
        run(Duration::from_ms(10));
        const auto mine = ready_of(b);
        REQUIRE(entry_for(mine, *c).has_value());
        REQUIRE(entry_for(mine, *c)->has(ready::connected));
        const auto theirs = ready_of(a);
        REQUIRE(theirs.size() == 1);
        REQUIRE(theirs[0].has(ready::connected));
        REQUIRE(theirs[0].listen_port == port);
        server = theirs[0].conn;
        return *c;
    }
};

std::string read_all(Stack& s, Conn c) {
    std::string text;
    Bytes spans[64];
    const std::size_t n = s.peek(c, spans, 64);
    for (std::size_t i = 0; i < n; ++i) {
        text.append(spans[i].begin(), spans[i].end());
    }
    REQUIRE(s.consume(c, static_cast<std::uint32_t>(text.size())).ok());
    return text;
}

Bytes bytes_of(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

} // namespace

TEST_CASE("api: StackConfig's defaults are the engine's", "[api]") {
    const engine::EngineConfig from_stack = engine_config(StackConfig{});
    const engine::EngineConfig engine_default;
    CHECK(from_stack.prefix_len == engine_default.prefix_len);
    CHECK(from_stack.max_connections == engine_default.max_connections);
    CHECK(from_stack.max_listeners == engine_default.max_listeners);
    CHECK(from_stack.syn_backlog == engine_default.syn_backlog);
    CHECK(from_stack.syn_cookies == engine_default.syn_cookies);
    CHECK(from_stack.ephemeral_port_min == engine_default.ephemeral_port_min);
    CHECK(from_stack.ephemeral_port_max == engine_default.ephemeral_port_max);
    CHECK(from_stack.arp_responder == engine_default.arp_responder);
    CHECK(from_stack.tcp.syn_retries == engine_default.tcp.syn_retries);
    CHECK(from_stack.tcp.mss == engine_default.tcp.mss);
    CHECK(from_stack.tcp.send_buffer_bytes == engine_default.tcp.send_buffer_bytes);
    CHECK(from_stack.tcp.recv_buffer_bytes == engine_default.tcp.recv_buffer_bytes);
    CHECK(from_stack.tcp.window_scaling == engine_default.tcp.window_scaling);
    CHECK(from_stack.tcp.timestamps == engine_default.tcp.timestamps);
    CHECK(from_stack.tcp.sack == engine_default.tcp.sack);
    CHECK(from_stack.tcp.nagle == engine_default.tcp.nagle);
    CHECK(from_stack.tcp.keepalive.enabled == engine_default.tcp.keepalive.enabled);
    CHECK(from_stack.tcp.keepalive.idle == engine_default.tcp.keepalive.idle);
    CHECK(from_stack.tcp.keepalive.interval == engine_default.tcp.keepalive.interval);
    CHECK(from_stack.tcp.keepalive.probes == engine_default.tcp.keepalive.probes);
    CHECK(from_stack.tx_checksum.ipv4 == engine_default.tx_checksum.ipv4);
    CHECK(from_stack.tx_checksum.tcp == engine_default.tx_checksum.tcp);
}

TEST_CASE("api: a passive open is on the ready list as connected, with its listener's port",
          "[api]") {
    Connected p(8080);
    auto info = p.a.info(p.server);
    REQUIRE(info.ok());
    CHECK(info->state == ConnState::established);
    CHECK(info->local_port == 8080);
    CHECK(info->remote_ip == ip_b);
    CHECK(p.a.listen(8080).error() == ListenError::port_in_use);
}

TEST_CASE(
    "api: take hands the application the very mbuf the port received, and send of it on another"
    " connection transmits it without a copy",
    "[api]") {
    Connected p;
    const Conn in_server = p.server;
    const Conn out_client = p.connect(80);
    const Conn out_server = p.server;
    // A segment for the first connection, delivered by hand so that its mbuf
    // is known.
    const std::string text(1000, 'z');
    REQUIRE(*p.b.write(p.client, bytes_of(text)) == 1000);
    p.b.poll(p.now);
    rte_mbuf* sent[4];
    REQUIRE(p.b.drain(sent, 4) == 1);
    rte_mbuf* arrived = synack::test::mbuf_from(synack::test::bytes_of(sent[0])).release();
    rte_pktmbuf_free(sent[0]);
    p.a.input(&arrived, 1, p.now);
    const auto r = ready_of(p.a);
    REQUIRE(r.size() == 1);
    REQUIRE(r[0].conn == in_server);
    REQUIRE(r[0].has(ready::readable));

    auto taken = p.a.take(in_server);
    REQUIRE(taken.ok());
    CHECK(taken->get() == arrived); // the port's mbuf itself, trimmed to the payload
    CHECK(taken->get()->pkt_len == 1000);
    CHECK(p.a.readable(in_server) == 0);
    rte_mbuf* const forwarded = taken->get();
    REQUIRE(p.a.send(out_server, *taken).ok());
    CHECK_FALSE(*taken);
    p.a.poll(p.now);
    rte_mbuf* frames[8];
    const std::uint16_t n = p.a.drain(frames, 8);
    bool found = false;
    for (std::uint16_t i = 0; i < n; ++i) {
        const rte_mbuf* payload = frames[i]->next;
        if (payload != nullptr && RTE_MBUF_CLONED(payload) &&
            rte_mbuf_from_indirect(const_cast<rte_mbuf*>(payload)) == forwarded) {
            found = true; // headers in an mbuf of their own, then the received one, attached
        }
        rte_pktmbuf_free(frames[i]);
    }
    CHECK(found);
    p.run(Duration::from_s(2)); // the freed frame was lost: resent from the same mbuf
    CHECK(read_all(p.b, out_client) == text);
}

TEST_CASE("api: the ready list holds a connection once however many segments arrived in a burst",
          "[api]") {
    Connected p;
    const std::string text(10 * 1000, 'q');
    REQUIRE(*p.b.write(p.client, bytes_of(text)) == text.size());
    p.b.poll(p.now);
    REQUIRE(p.shuttle(p.b, p.a) >= 7); // one burst of full-sized segments
    const auto r = ready_of(p.a);
    REQUIRE(r.size() == 1);
    CHECK(r[0].conn == p.server);
    CHECK(r[0].what == ready::readable);
    CHECK(p.a.readable(p.server) == text.size());
    CHECK(ready_of(p.a).empty()); // taken: nothing until something changes
}

TEST_CASE("api: application calls reach the wire at the next poll, in one output pass", "[api]") {
    Connected p;
    for (int i = 0; i < 3; ++i) {
        REQUIRE(*p.b.write(p.client, bytes_of("abc")) == 3);
    }
    rte_mbuf* out[8];
    REQUIRE(p.b.drain(out, 8) == 0); // nothing before poll()
    p.b.poll(p.now);
    const std::uint16_t n = p.b.drain(out, 8);
    REQUIRE(n == 1); // the three writes in one segment
    CHECK(tcp_of(out[0]).payload == 9);
    rte_pktmbuf_free(out[0]);
}

TEST_CASE("api: write and send stop at the send budget; ready::writable says when to go on",
          "[api]") {
    Connected p;
    const std::string chunk(64 * 1024, 'w');
    std::uint64_t queued = 0;
    for (;;) {
        auto w = p.b.write(p.client, bytes_of(chunk));
        if (!w.ok()) {
            REQUIRE(w.error() == ConnError::no_room);
            break;
        }
        queued += *w;
    }
    CHECK(queued == 256 * 1024);
    CHECK(p.b.writable(p.client) == 0);
    Buffer extra = p.b.alloc_buffer();
    REQUIRE(extra);
    std::memcpy(rte_pktmbuf_append(extra.get(), 1), "!", 1);
    CHECK(p.b.send(p.client, extra).error() == ConnError::no_room);
    CHECK(extra); // refused: still ours
    bool writable = false;
    for (int i = 0; i < 200 && !writable; ++i) {
        p.run(Duration::from_ms(5));
        (void)read_all(p.a, p.server);
        writable = entry_for(ready_of(p.b), p.client).value_or(Ready{}).has(ready::writable);
    }
    REQUIRE(writable);
    CHECK(p.b.send(p.client, extra).ok());
}

TEST_CASE("api: close and abort make the handle stale at once and free everything", "[api]") {
    const unsigned mbufs = synack::test::in_use();
    {
        Connected p;
        REQUIRE(*p.b.write(p.client, bytes_of("unread")) == 6);
        p.run(Duration::from_ms(100));
        REQUIRE(p.a.readable(p.server) == 6);

        SECTION("abort: RST, the peer is told reset") {
            REQUIRE(p.a.abort(p.server).ok());
            CHECK(p.a.abort(p.server).error() == ConnError::stale);
            CHECK(p.a.info(p.server).error() == ConnError::stale);
            CHECK(p.a.readable(p.server) == 0);
            p.run(Duration::from_ms(100));
            const auto r = entry_for(ready_of(p.b), p.client);
            REQUIRE(r.has_value());
            CHECK(r->has(ready::closed));
            CHECK(r->reason == CloseReason::reset);
            CHECK(entry_for(ready_of(p.a), p.server) == std::nullopt);
        }
        SECTION("close with unread data: RST too (RFC 1122 4.2.2.13)") {
            REQUIRE(p.a.close(p.server).ok());
            CHECK(p.a.write(p.server, bytes_of("x")).error() == ConnError::stale);
            p.run(Duration::from_ms(100));
            const auto r = entry_for(ready_of(p.b), p.client);
            REQUIRE(r.has_value());
            CHECK(r->reason == CloseReason::reset);
        }
        SECTION("set_rst_on_close: close resets though everything was read") {
            (void)read_all(p.a, p.server);
            REQUIRE(p.a.set_rst_on_close(p.server, true).ok());
            REQUIRE(p.a.close(p.server).ok());
            p.run(Duration::from_ms(100));
            const auto r = entry_for(ready_of(p.b), p.client);
            REQUIRE(r.has_value());
            CHECK(r->reason == CloseReason::reset);
        }
        CHECK(p.a.connections() == 0);
        CHECK(p.b.connections() == 0);
        CHECK(p.b.info(p.client).error() == ConnError::stale);
        CHECK(p.a.engine().timers() == 0);
        CHECK(p.b.engine().timers() == 0);
    }
    CHECK(synack::test::in_use() == mbufs);
}

TEST_CASE("api: stale handles are refused by every call", "[api]") {
    Pair p;
    const Conn never{3, 99};
    Bytes spans[1];
    Buffer buf = p.a.alloc_buffer();
    CHECK(p.a.readable(never) == 0);
    CHECK(p.a.writable(never) == 0);
    CHECK(p.a.peek(never, spans, 1) == 0);
    CHECK(p.a.consume(never, 1).error() == ConnError::stale);
    CHECK(p.a.take(never).error() == ConnError::stale);
    CHECK(p.a.send(never, buf).error() == ConnError::stale);
    CHECK(buf);
    CHECK(p.a.write(never, bytes_of("x")).error() == ConnError::stale);
    CHECK(p.a.shutdown(never).error() == ConnError::stale);
    CHECK(p.a.close(never).error() == ConnError::stale);
    CHECK(p.a.abort(never).error() == ConnError::stale);
    CHECK(p.a.set_no_delay(never, true).error() == ConnError::stale);
    CHECK(p.a.set_keepalive(never, Keepalive{}).error() == ConnError::stale);
    CHECK(p.a.set_rst_on_close(never, true).error() == ConnError::stale);
    CHECK(p.a.info(never).error() == ConnError::stale);
}

TEST_CASE("api: half-close both ways: shutdown, peer_closed, then closed normal on each side",
          "[api]") {
    Connected p;
    REQUIRE(*p.b.write(p.client, bytes_of("request")) == 7);
    REQUIRE(p.b.shutdown(p.client).ok());
    CHECK(p.b.write(p.client, bytes_of("more")).error() == ConnError::write_closed);
    p.run(Duration::from_ms(100));
    auto r = entry_for(ready_of(p.a), p.server);
    REQUIRE(r.has_value());
    CHECK(r->what == (ready::readable | ready::peer_closed));
    CHECK(read_all(p.a, p.server) == "request");
    REQUIRE(*p.a.write(p.server, bytes_of("response")) == 8); // into the half-closed connection
    REQUIRE(p.a.shutdown(p.server).ok());
    p.run(Duration::from_ms(100));
    r = entry_for(ready_of(p.b), p.client);
    REQUIRE(r.has_value());
    CHECK(r->has(ready::readable));
    CHECK(r->has(ready::peer_closed));
    CHECK(read_all(p.b, p.client) == "response");
    p.run(Duration::from_ms(100));
    const auto a_end = entry_for(ready_of(p.a), p.server);
    REQUIRE(a_end.has_value());
    CHECK(a_end->has(ready::closed));
    CHECK(a_end->reason == CloseReason::normal);
    // b closed first: TIME-WAIT, shrunk to a record, is the end for its application too.
    const auto b_end = entry_for(ready_of(p.b), p.client);
    REQUIRE(b_end.has_value());
    CHECK(b_end->has(ready::closed));
    CHECK(b_end->reason == CloseReason::normal);
    CHECK(p.b.info(p.client).error() == ConnError::stale);
    CHECK(p.b.engine().time_wait_records() == 1);
}

TEST_CASE("api: info reports state, RTT, windows and byte counts", "[api]") {
    Connected p;
    REQUIRE(*p.b.write(p.client, bytes_of(std::string(3000, 'i'))) == 3000);
    p.run(Duration::from_ms(100));
    const auto i = p.b.info(p.client);
    REQUIRE(i.ok());
    CHECK(i->state == ConnState::established);
    CHECK(i->bytes_acked == 3000);
    CHECK(i->bytes_unsent == 0);
    CHECK(i->flight_bytes == 0);
    CHECK(i->cwnd_bytes >= 10 * 1460u);
    CHECK(i->snd_mss == 1460);
    CHECK(i->timestamps);
    CHECK(i->sack);
    CHECK(i->rto >= Duration::from_ms(200));
    CHECK(i->segments_retransmitted == 0);
    const auto j = p.a.info(p.server);
    REQUIRE(j.ok());
    CHECK(j->bytes_received == 3000);
    CHECK(j->bytes_readable == 3000);
    CHECK(j->rcv_wnd_bytes == 256 * 1024 - 3000);
}

TEST_CASE("api: keepalive set on one connection probes it after its idle time (RFC 9293 3.8.4)",
          "[api][rfc9293]") {
    Connected p;
    Keepalive k;
    k.enabled = true;
    k.idle = Duration::from_s(2);
    k.interval = Duration::from_s(1);
    k.probes = 2;
    REQUIRE(p.b.set_keepalive(p.client, k).ok());
    // The peer stops answering: everything it sends is lost.
    p.now = p.now + Duration::from_ms(1900);
    p.b.poll(p.now);
    rte_mbuf* out[4];
    CHECK(p.b.drain(out, 4) == 0);
    p.now = p.now + Duration::from_ms(200);
    p.b.poll(p.now);
    REQUIRE(p.b.drain(out, 4) == 1);
    const Seen probe = tcp_of(out[0]);
    rte_pktmbuf_free(out[0]);
    CHECK(probe.flags == wire::tcp_flag::ack);
    CHECK(probe.payload == 0);
    for (int i = 0; i < 3; ++i) {
        p.now = p.now + Duration::from_s(1);
        p.b.poll(p.now);
        while (const std::uint16_t n = p.b.drain(out, 4)) {
            rte_pktmbuf_free_bulk(out, n);
        }
    }
    const auto r = entry_for(ready_of(p.b), p.client);
    REQUIRE(r.has_value());
    CHECK(r->has(ready::closed));
    CHECK(r->reason == CloseReason::timed_out);
}

TEST_CASE("api: a connection whose close completes with data unread keeps it until it is read, then"
          " is reported closed",
          "[api]") {
    Connected p;
    REQUIRE(*p.b.write(p.client, bytes_of("tail")) == 4);
    REQUIRE(p.b.shutdown(p.client).ok());
    p.run(Duration::from_ms(100));
    auto r = entry_for(ready_of(p.a), p.server);
    REQUIRE(r.has_value());
    CHECK(r->what == (ready::readable | ready::peer_closed));
    // a shuts down without reading: LAST-ACK, then CLOSED when b acknowledges.
    REQUIRE(p.a.shutdown(p.server).ok());
    p.run(Duration::from_ms(100));
    CHECK(entry_for(ready_of(p.a), p.server) == std::nullopt); // not closed yet: data unread
    REQUIRE(p.a.info(p.server).ok());
    CHECK(p.a.info(p.server)->state == ConnState::closed);
    CHECK(p.a.readable(p.server) == 4);
    CHECK(read_all(p.a, p.server) == "tail");
    p.run(Duration::from_ms(10));
    r = entry_for(ready_of(p.a), p.server);
    REQUIRE(r.has_value());
    CHECK(r->has(ready::closed));
    CHECK(r->reason == CloseReason::normal);
    CHECK(p.a.connections() == 0);
}
