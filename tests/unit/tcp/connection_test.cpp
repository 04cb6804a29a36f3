// The RFC 9293 state machine of one connection, driven segment by segment.
// Grouped by state; each name states the rule, with its RFC section.

#include "unit/tcp/tcp_fixture.hpp"

#include <synack/tcp/control.hpp>
#include <synack/tcp/sack_recovery.hpp>
#include <synack/tcp/time_wait.hpp>

using namespace synack;
using namespace synack::test;
using tcp::ConnEvent;
using tcp::TcpState;
using time::Duration;
using wire::Seq32;

// ---------------------------------------------------------------- LISTEN

TEST_CASE("LISTEN: SYN -> SYN-ACK <SEQ=ISS><ACK=RCV.NXT>, SYN-RECEIVED (RFC 9293 3.10.7.2)",
          "[tcp][rfc9293]") {
    TcpFixture t;
    wire::TcpRepr syn{.seq = remote_iss, .flags = flag::syn, .window = 64240};
    syn.options.mss = 1400;
    syn.src_port = remote_port;
    syn.dst_port = local_port;
    std::vector<std::uint8_t> bytes(syn.header_len());
    syn.emit(bytes);
    auto seg = wire::parse_tcp(bytes, wire::ChecksumCheck::known_good());
    auto e = t.env();
    REQUIRE(tcp::open_passive(t.tcb, *seg, local_iss, e));
    REQUIRE(t.tcb.state == TcpState::syn_received);
    const Sent s = t.expect_tx();
    REQUIRE(s.hdr.flags == (flag::syn | flag::ack));
    REQUIRE(s.hdr.seq == local_iss);
    REQUIRE(s.hdr.ack == remote_iss + 1);
    REQUIRE(s.hdr.options.mss == std::uint16_t{1460});
    REQUIRE(t.tcb.snd.mss == 1400); // min(peer's MSS, ours): RFC 9293 3.7.1
    t.expect_no_tx();
}

TEST_CASE("LISTEN: a peer without the MSS option gets 536 (RFC 9293 3.7.1, MUST-15)",
          "[tcp][rfc9293]") {
    TcpFixture t;
    wire::TcpRepr syn{.seq = remote_iss, .flags = flag::syn, .window = 1000};
    syn.src_port = remote_port;
    syn.dst_port = local_port;
    std::vector<std::uint8_t> bytes(syn.header_len());
    syn.emit(bytes);
    auto seg = wire::parse_tcp(bytes, wire::ChecksumCheck::known_good());
    auto e = t.env();
    REQUIRE(tcp::open_passive(t.tcb, *seg, local_iss, e));
    REQUIRE(t.tcb.snd.mss == 536);
}

// ---------------------------------------------------------------- SYN-RECEIVED

TEST_CASE("SYN-RECEIVED: ACK of our SYN -> ESTABLISHED, connected (RFC 9293 3.10.7.4)",
          "[tcp][rfc9293]") {
    TcpFixture t;
    t.make_syn_received();
    t.send({.seq = remote_iss + 1, .ack = local_iss + 1, .flags = flag::ack, .window = 1000});
    REQUIRE(t.tcb.state == TcpState::established);
    REQUIRE(t.tcb.snd.wnd == 1000);
    REQUIRE(t.saw_event(ConnEvent::connected));
    t.expect_no_tx();
}

TEST_CASE("SYN-RECEIVED: unacceptable ACK -> RST <SEQ=SEG.ACK> (RFC 9293 3.10.7.4)",
          "[tcp][rfc9293]") {
    TcpFixture t;
    t.make_syn_received();
    t.send({.seq = remote_iss + 1, .ack = local_iss + 5, .flags = flag::ack, .window = 1000});
    const Sent rst = t.expect_tx();
    REQUIRE(rst.hdr.flags == flag::rst);
    REQUIRE(rst.hdr.seq == local_iss + 5);
    REQUIRE(t.tcb.state == TcpState::syn_received);
}

TEST_CASE("SYN-RECEIVED: a repeated SYN gets the SYN-ACK again", "[tcp]") {
    TcpFixture t;
    t.make_syn_received();
    t.send({.seq = remote_iss, .flags = flag::syn, .window = 1000});
    const Sent s = t.expect_tx();
    REQUIRE(s.hdr.flags == (flag::syn | flag::ack));
    REQUIRE(s.hdr.seq == local_iss);
}

TEST_CASE("SYN-RECEIVED: no ACK -> SYN-ACK retransmitted with backoff, then give up",
          "[tcp][rfc6298]") {
    TcpFixture t;
    t.make_syn_received();
    Duration rto = Duration::from_s(1);
    for (int i = 0; i < t.config.synack_retries; ++i) {
        t.advance(rto);
        const Sent s = t.expect_tx();
        REQUIRE(s.hdr.flags == (flag::syn | flag::ack));
        rto = rto + rto; // RFC 6298 section 5.5: back off
    }
    t.advance(rto);
    t.expect_no_tx();
    REQUIRE(t.tcb.state == TcpState::closed);
    REQUIRE(t.tcb.close_reason == tcp::CloseReason::timed_out);
}

TEST_CASE("SYN-RECEIVED from LISTEN: RST -> CLOSED, no reply (RFC 9293 3.10.7.4 second)",
          "[tcp][rfc9293]") {
    TcpFixture t;
    t.make_syn_received();
    t.send({.seq = remote_iss + 1, .flags = flag::rst});
    REQUIRE(t.tcb.state == TcpState::closed);
    t.expect_no_tx();
}

// ---------------------------------------------------------------- SYN-SENT

TEST_CASE("SYN-SENT: open sends SYN <SEQ=ISS> with MSS (RFC 9293 3.10.1)", "[tcp][rfc9293]") {
    TcpFixture t;
    auto e = t.env();
    REQUIRE(tcp::open_active(t.tcb, local_iss, e));
    REQUIRE(t.tcb.state == TcpState::syn_sent);
    const Sent s = t.expect_tx();
    REQUIRE(s.hdr.flags == flag::syn);
    REQUIRE(s.hdr.seq == local_iss);
    REQUIRE(s.hdr.options.mss == std::uint16_t{1460});
}

TEST_CASE("SYN-SENT: SYN-ACK -> ESTABLISHED and ACK <SEQ=SND.NXT><ACK=RCV.NXT> (RFC 9293 3.10.7.3)",
          "[tcp][rfc9293]") {
    TcpFixture t;
    auto e = t.env();
    REQUIRE(tcp::open_active(t.tcb, local_iss, e));
    (void)t.expect_tx();
    wire::TcpRepr synack{.seq = remote_iss, .ack = local_iss + 1, .flags = flag::syn | flag::ack,
                         .window = 5000};
    synack.options.mss = 1200;
    t.send(synack);
    REQUIRE(t.tcb.state == TcpState::established);
    REQUIRE(t.tcb.snd.mss == 1200);
    REQUIRE(t.tcb.snd.wnd == 5000);
    const Sent ack = t.expect_tx();
    REQUIRE(ack.hdr.flags == flag::ack);
    REQUIRE(ack.hdr.seq == local_iss + 1);
    REQUIRE(ack.hdr.ack == remote_iss + 1);
    REQUIRE(t.saw_event(ConnEvent::connected));
}

TEST_CASE("SYN-SENT: ACK outside ISS < SEG.ACK =< SND.NXT -> RST <SEQ=SEG.ACK> (RFC 9293 3.10.7.3)",
          "[tcp][rfc9293]") {
    TcpFixture t;
    auto e = t.env();
    REQUIRE(tcp::open_active(t.tcb, local_iss, e));
    (void)t.expect_tx();
    t.send({.seq = remote_iss, .ack = local_iss + 7, .flags = flag::syn | flag::ack, .window = 5000});
    const Sent rst = t.expect_tx();
    REQUIRE(rst.hdr.flags == flag::rst);
    REQUIRE(rst.hdr.seq == local_iss + 7);
    REQUIRE(t.tcb.state == TcpState::syn_sent);
}

TEST_CASE("SYN-SENT: RST acknowledging our SYN -> CLOSED, refused (RFC 9293 3.10.7.3)",
          "[tcp][rfc9293][rfc5961]") {
    TcpFixture t;
    auto e = t.env();
    REQUIRE(tcp::open_active(t.tcb, local_iss, e));
    (void)t.expect_tx();
    t.send({.seq = Seq32(0), .ack = local_iss + 1, .flags = flag::rst | flag::ack});
    REQUIRE(t.tcb.state == TcpState::closed);
    REQUIRE(t.tcb.close_reason == tcp::CloseReason::refused);
    t.expect_no_tx();
}

TEST_CASE("SYN-SENT: RST without an ACK is dropped (RFC 9293 3.10.7.3)", "[tcp][rfc9293]") {
    TcpFixture t;
    auto e = t.env();
    REQUIRE(tcp::open_active(t.tcb, local_iss, e));
    (void)t.expect_tx();
    t.send({.seq = remote_iss, .flags = flag::rst});
    REQUIRE(t.tcb.state == TcpState::syn_sent);
}

TEST_CASE("SYN-SENT: SYN without ACK -> SYN-RECEIVED, SYN-ACK (simultaneous open, RFC 9293 figure 7)",
          "[tcp][rfc9293]") {
    TcpFixture t;
    auto e = t.env();
    REQUIRE(tcp::open_active(t.tcb, local_iss, e));
    (void)t.expect_tx();
    t.send({.seq = remote_iss, .flags = flag::syn, .window = 5000});
    REQUIRE(t.tcb.state == TcpState::syn_received);
    const Sent s = t.expect_tx();
    REQUIRE(s.hdr.flags == (flag::syn | flag::ack));
    REQUIRE(s.hdr.seq == local_iss);
    REQUIRE(s.hdr.ack == remote_iss + 1);
    // The peer's SYN-ACK completes it.
    t.send({.seq = remote_iss + 1, .ack = local_iss + 1, .flags = flag::ack, .window = 5000});
    REQUIRE(t.tcb.state == TcpState::established);
}

TEST_CASE("SYN-SENT: no answer -> SYN retransmitted, then CLOSED timed out", "[tcp][rfc6298]") {
    TcpFixture t;
    t.config.syn_retries = 2;
    auto e = t.env();
    REQUIRE(tcp::open_active(t.tcb, local_iss, e));
    (void)t.expect_tx();
    t.advance(Duration::from_s(1));
    REQUIRE(t.expect_tx().hdr.flags == flag::syn);
    t.advance(Duration::from_s(2));
    REQUIRE(t.expect_tx().hdr.flags == flag::syn);
    t.advance(Duration::from_s(4));
    REQUIRE(t.tcb.state == TcpState::closed);
    REQUIRE(t.tcb.close_reason == tcp::CloseReason::timed_out);
}

TEST_CASE(
    "SYN-SENT: a handshake that timed out and gave no sample starts data at RTO 3 s, without the"
    " SYN's backoff (RFC 6298 5.7)",
    "[tcp][rfc6298]") {
    TcpFixture t;
    auto e = t.env();
    REQUIRE(tcp::open_active(t.tcb, local_iss, e));
    (void)t.expect_tx();
    for (const int s : {1, 2, 4, 8}) { // four timeouts: the SYN's RTO is now 16 s
        t.advance(Duration::from_s(s));
        REQUIRE(t.expect_tx().hdr.flags == flag::syn);
    }
    t.send(
        {.seq = remote_iss, .ack = local_iss + 1, .flags = flag::syn | flag::ack, .window = 5000});
    REQUIRE(t.tcb.state == TcpState::established);
    (void)t.expect_tx();
    t.app_send("x");
    REQUIRE(t.expect_tx().payload == "x");
    t.advance(Duration::from_ms(2900));
    t.expect_no_tx();
    t.advance(Duration::from_ms(200));
    REQUIRE(t.expect_tx().payload == "x"); // 3 s, not the 16 s the SYN had reached
}

TEST_CASE(
    "SYN-SENT: a retransmitted SYN still gives a sample from the SYN-ACK's timestamp echo (RFC 7323"
    " 4.1), which ends the SYN's backoff",
    "[tcp][rfc7323][rfc6298]") {
    tcp::TcpConfig c = TcpFixture::quiet_config();
    c.timestamps = true;
    TcpFixture t(c);
    auto e = t.env();
    REQUIRE(tcp::open_active(t.tcb, local_iss, e));
    (void)t.expect_tx();
    for (const int s : {1, 2, 4}) {
        t.advance(Duration::from_s(s));
        (void)t.expect_tx();
    }
    const Sent last_syn = [&] {
        t.advance(Duration::from_s(8));
        return t.expect_tx();
    }();
    REQUIRE(last_syn.hdr.options.timestamps.has_value());
    t.advance(Duration::from_ms(50)); // the answer to the last SYN: a 50 ms RTT
    wire::TcpRepr synack{
        .seq = remote_iss, .ack = local_iss + 1, .flags = flag::syn | flag::ack, .window = 5000};
    synack.options.timestamps = wire::Timestamps{900, last_syn.hdr.options.timestamps->value};
    t.send(synack);
    REQUIRE(t.tcb.state == TcpState::established);
    REQUIRE(t.tcb.rtt.has_sample());
    REQUIRE(t.tcb.rtt.srtt() == Duration::from_ms(50));
    (void)t.expect_tx();
    t.app_send("x");
    (void)t.expect_tx();
    t.advance(Duration::from_ms(300)); // RTO = 50 ms + 4 * 25 ms, at least 200 ms
    REQUIRE(t.expect_tx().payload == "x");
}

TEST_CASE(
    "SYN-RECEIVED: a handshake whose SYN-ACK timed out starts data at RTO 3 s without its backoff"
    " (RFC 6298 5.7)",
    "[tcp][rfc6298]") {
    TcpFixture t;
    t.make_syn_received();
    t.advance(Duration::from_s(1));
    REQUIRE(t.expect_tx().hdr.flags == (flag::syn | flag::ack));
    t.send({.seq = remote_iss + 1, .ack = local_iss + 1, .flags = flag::ack, .window = 5000});
    REQUIRE(t.tcb.state == TcpState::established);
    t.app_send("x");
    (void)t.expect_tx();
    t.advance(Duration::from_ms(2500)); // the SYN-ACK's backed-off RTO was 2 s
    t.expect_no_tx();
    t.advance(Duration::from_ms(600));
    REQUIRE(t.expect_tx().payload == "x");
}

// ---------------------------------------------------------------- ESTABLISHED: receiving

TEST_CASE("ESTABLISHED: in-order data is readable and its ACK is delayed (RFC 9293 3.8.6.3)",
          "[tcp][rfc9293]") {
    TcpFixture t;
    t.make_established();
    t.send({.seq = remote_iss + 1, .ack = local_iss + 1, .flags = flag::ack | flag::psh,
            .window = 64240},
           "hello");
    REQUIRE(t.saw_event(ConnEvent::readable));
    t.expect_no_tx();
    t.advance(Duration::from_ms(40));
    const Sent ack = t.expect_tx();
    REQUIRE(ack.hdr.ack == remote_iss + 6);
    REQUIRE(t.app_read() == "hello");
}

TEST_CASE("ESTABLISHED: the second full-sized segment is ACKed at once (RFC 9293 3.8.6.3)",
          "[tcp][rfc9293]") {
    TcpFixture t;
    t.make_established();
    const std::string full(t.tcb.snd.mss, 'x');
    t.send({.seq = remote_iss + 1, .ack = local_iss + 1, .flags = flag::ack, .window = 64240}, full);
    t.expect_no_tx();
    t.send({.seq = remote_iss + 1 + full.size(), .ack = local_iss + 1, .flags = flag::ack,
            .window = 64240},
           full);
    const Sent ack = t.expect_tx();
    REQUIRE(ack.hdr.ack == remote_iss + 1 + 2 * full.size());
}

TEST_CASE("ESTABLISHED: the receive buffer hands over the very mbuf that arrived", "[tcp][buffers]") {
    TcpFixture t;
    t.make_established();
    wire::TcpRepr seg{.seq = remote_iss + 1, .ack = local_iss + 1, .flags = flag::ack,
                      .window = 64240};
    seg.src_port = remote_port;
    seg.dst_port = local_port;
    std::vector<std::uint8_t> bytes(seg.header_len());
    seg.emit(bytes);
    const std::string payload = "zero copy";
    bytes.insert(bytes.end(), payload.begin(), payload.end());
    wire::MbufPtr m = mbuf_from(bytes);
    const rte_mbuf* arrived = m.get();
    const std::uint8_t* payload_at = rte_pktmbuf_mtod(m.get(), const std::uint8_t*) + 20;
    auto parsed = wire::parse_tcp(bytes, wire::ChecksumCheck::known_good());
    auto e = t.env();
    tcp::segment_arrives(t.tcb, tcp::Incoming{*parsed, std::move(m), 20}, e);
    REQUIRE(t.tcb.recv.front() == arrived);
    wire::Bytes spans[4];
    REQUIRE(t.tcb.recv.peek(spans, 4) == 1);
    REQUIRE(spans[0].data() == payload_at);
    REQUIRE(std::string(spans[0].begin(), spans[0].end()) == payload);
}

TEST_CASE("ESTABLISHED: out-of-order data -> immediate duplicate ACK; the hole filled -> all of it"
          " (RFC 5681 4.2)",
          "[tcp][rfc5681]") {
    TcpFixture t;
    t.make_established();
    t.send({.seq = remote_iss + 6, .ack = local_iss + 1, .flags = flag::ack, .window = 64240},
           "world");
    const Sent dup = t.expect_tx();
    REQUIRE(dup.hdr.ack == remote_iss + 1);
    REQUIRE(t.app_read().empty());
    REQUIRE(t.counters.ooo_queued == 1);
    t.send({.seq = remote_iss + 1, .ack = local_iss + 1, .flags = flag::ack, .window = 64240},
           "hello");
    const Sent ack = t.expect_tx();
    REQUIRE(ack.hdr.ack == remote_iss + 11);
    REQUIRE(t.app_read() == "helloworld");
}

TEST_CASE("ESTABLISHED: SACK blocks describe held out-of-order data (RFC 2018 4)", "[tcp][rfc2018]") {
    tcp::TcpConfig c = TcpFixture::quiet_config();
    c.sack = true;
    TcpFixture t(c);
    wire::TcpOptions peer;
    peer.sack_permitted = true;
    t.make_syn_received(peer);
    REQUIRE(t.tcb.sack_ok);
    t.send({.seq = remote_iss + 1, .ack = local_iss + 1, .flags = flag::ack, .window = 64240});
    t.send({.seq = remote_iss + 11, .ack = local_iss + 1, .flags = flag::ack, .window = 64240},
           "abcde");
    const Sent dup = t.expect_tx();
    REQUIRE(dup.hdr.options.sack_count == 1);
    REQUIRE(dup.hdr.options.sack[0] == wire::SackBlock{remote_iss + 11, remote_iss + 16});
}

TEST_CASE("ESTABLISHED: data segments carrying SACK blocks give up payload for them, so that no segment"
          " exceeds the MSS (RFC 9293 3.7.1: Eff.snd.MSS less the TCP header size)",
          "[tcp][rfc9293][rfc2018]") {
    tcp::TcpConfig c = TcpFixture::quiet_config();
    c.sack = true;
    c.timestamps = true;
    TcpFixture t(c);
    wire::TcpOptions peer;
    peer.sack_permitted = true;
    peer.timestamps = wire::Timestamps{1, 0};
    t.make_syn_received(peer); // the peer's MSS: 1460
    t.send({.seq = remote_iss + 1, .ack = local_iss + 1, .flags = flag::ack, .window = 64240});
    t.take_events();
    wire::TcpRepr ooo{.seq = remote_iss + 101, .ack = local_iss + 1, .flags = flag::ack, .window = 64240};
    ooo.options.timestamps = wire::Timestamps{2, 0};
    t.send(ooo, "held");
    (void)t.expect_tx();
    t.tcb.nagle = false;
    t.app_send(std::string(3000, 'd'));
    for (int i = 0; i < 2; ++i) {
        const Sent s = t.expect_tx();
        REQUIRE(s.hdr.options.sack_count == 1);
        REQUIRE(s.header_len - 20 + s.payload.size() <= 1460); // options and data within the MSS
        REQUIRE(s.payload.size() == 1460 - 12 - 12);           // timestamps, one SACK block
    }
}

TEST_CASE("ESTABLISHED: a segment outside the window -> ACK, dropped (RFC 9293 3.10.7.4 first)",
          "[tcp][rfc9293]") {
    TcpFixture t;
    t.make_established();
    t.send({.seq = remote_iss + 1 + 1'000'000, .ack = local_iss + 1, .flags = flag::ack,
            .window = 64240},
           "far");
    const Sent ack = t.expect_tx();
    REQUIRE(ack.hdr.flags == flag::ack);
    REQUIRE(ack.hdr.ack == remote_iss + 1);
    REQUIRE(t.counters.drops[tcp::DropReason::out_of_window] == 1);
}

TEST_CASE("ESTABLISHED: an old duplicate is trimmed to its new part (RFC 9293 3.10.7.4)",
          "[tcp][rfc9293]") {
    TcpFixture t;
    t.make_established();
    t.send({.seq = remote_iss + 1, .ack = local_iss + 1, .flags = flag::ack, .window = 64240}, "abc");
    t.send({.seq = remote_iss + 1, .ack = local_iss + 1, .flags = flag::ack, .window = 64240},
           "abcdef");
    REQUIRE(t.app_read() == "abcdef");
}

// ---------------------------------------------------------------- RFC 5961

TEST_CASE("ESTABLISHED: RST at exactly RCV.NXT -> CLOSED, reset (RFC 5961 3.2)", "[tcp][rfc5961]") {
    TcpFixture t;
    t.make_established();
    t.send({.seq = remote_iss + 1, .flags = flag::rst});
    REQUIRE(t.tcb.state == TcpState::closed);
    REQUIRE(t.tcb.close_reason == tcp::CloseReason::reset);
    REQUIRE(t.saw_event(ConnEvent::closed));
    t.expect_no_tx();
}

TEST_CASE("ESTABLISHED: in-window RST not at RCV.NXT -> challenge ACK (RFC 5961 3.2)",
          "[tcp][rfc5961]") {
    TcpFixture t;
    t.make_established();
    t.send({.seq = remote_iss + 100, .flags = flag::rst});
    REQUIRE(t.tcb.state == TcpState::established);
    const Sent ack = t.expect_tx();
    REQUIRE(ack.hdr.flags == flag::ack);
    REQUIRE(ack.hdr.seq == local_iss + 1);
    REQUIRE(ack.hdr.ack == remote_iss + 1);
    REQUIRE(t.counters.challenge_acks == 1);
}

TEST_CASE("ESTABLISHED: out-of-window RST is dropped silently (RFC 5961 3.2)", "[tcp][rfc5961]") {
    TcpFixture t;
    t.make_established();
    t.send({.seq = remote_iss + 10'000'000, .flags = flag::rst});
    REQUIRE(t.tcb.state == TcpState::established);
    t.expect_no_tx();
}

TEST_CASE("ESTABLISHED: SYN -> challenge ACK, connection kept (RFC 5961 4.2)", "[tcp][rfc5961]") {
    TcpFixture t;
    t.make_established();
    t.send({.seq = remote_iss + 1, .flags = flag::syn, .window = 1000});
    REQUIRE(t.tcb.state == TcpState::established);
    const Sent ack = t.expect_tx();
    REQUIRE(ack.hdr.flags == flag::ack);
    REQUIRE(ack.hdr.ack == remote_iss + 1);
}

TEST_CASE("ESTABLISHED: a SYN outside the window draws a challenge ACK too, counted as one (RFC 5961"
          " 4.2: \"irrespective of the sequence number\")",
          "[tcp][rfc5961]") {
    TcpFixture t;
    t.make_established();
    t.send({.seq = remote_iss + 1'000'000, .flags = flag::syn, .window = 1000});
    REQUIRE(t.tcb.state == TcpState::established);
    const Sent ack = t.expect_tx();
    REQUIRE(ack.hdr.flags == flag::ack);
    REQUIRE(ack.hdr.ack == remote_iss + 1);
    REQUIRE(t.counters.challenge_acks == 1);
    t.send({.seq = remote_iss + 2'000'000, .flags = flag::syn, .window = 1000});
    t.expect_no_tx(); // throttled (RFC 5961 section 7)
    REQUIRE(t.counters.invalid_acks_limited == 1);
}

TEST_CASE("ESTABLISHED: ACK of data never sent -> ACK, dropped (RFC 5961 5.2)", "[tcp][rfc5961]") {
    TcpFixture t;
    t.make_established();
    t.send({.seq = remote_iss + 1, .ack = local_iss + 500, .flags = flag::ack, .window = 1000},
           "data");
    const Sent ack = t.expect_tx();
    REQUIRE(ack.hdr.ack == remote_iss + 1); // the data was not accepted
    REQUIRE(t.counters.drops[tcp::DropReason::bad_ack] == 1);
    // More of them within the interval draw no more ACKs (RFC 5961 section 7).
    for (int i = 0; i < 10; ++i) {
        t.send({.seq = remote_iss + 1, .ack = local_iss + 500 + i, .flags = flag::ack, .window = 1000});
    }
    t.expect_no_tx();
    REQUIRE(t.counters.invalid_acks_limited == 10);
    t.advance(t.config.invalid_ack_interval);
    t.send({.seq = remote_iss + 1, .ack = local_iss + 600, .flags = flag::ack, .window = 1000});
    REQUIRE(t.expect_tx().hdr.ack == remote_iss + 1);
}

TEST_CASE("ESTABLISHED: segment without ACK is dropped (RFC 9293 3.10.7.4 fifth)", "[tcp][rfc9293]") {
    TcpFixture t;
    t.make_established();
    t.send({.seq = remote_iss + 1, .window = 1000}, "data");
    REQUIRE(t.counters.drops[tcp::DropReason::no_ack] == 1);
    REQUIRE(t.app_read().empty());
}

// ---------------------------------------------------------------- ESTABLISHED: sending

TEST_CASE("ESTABLISHED: data goes out at once, and its ACK frees the send buffer", "[tcp][rfc9293]") {
    TcpFixture t;
    t.make_established();
    t.app_send("request");
    const Sent s = t.expect_tx();
    REQUIRE(s.payload == "request");
    REQUIRE(s.hdr.seq == local_iss + 1);
    REQUIRE((s.hdr.flags & flag::psh) != 0);
    REQUIRE(t.tcb.send.bytes() == 7);
    t.send({.seq = remote_iss + 1, .ack = local_iss + 8, .flags = flag::ack, .window = 64240});
    REQUIRE(t.tcb.send.bytes() == 0);
    REQUIRE_FALSE(t.wheel.armed(t.tcb.rtx_timer)); // RFC 6298 5.2: all acknowledged
}

TEST_CASE("ESTABLISHED: Nagle holds a small segment while data is unacknowledged (RFC 9293 3.7.4)",
          "[tcp][rfc9293]") {
    TcpFixture t;
    t.make_established();
    t.app_send("first");
    (void)t.expect_tx();
    t.app_send("second");
    t.expect_no_tx();
    t.send({.seq = remote_iss + 1, .ack = local_iss + 6, .flags = flag::ack, .window = 64240});
    const Sent s = t.expect_tx();
    REQUIRE(s.payload == "second");
}

TEST_CASE("ESTABLISHED: with Nagle off, small segments go out at once", "[tcp][rfc9293]") {
    TcpFixture t;
    t.make_established();
    t.tcb.nagle = false;
    t.app_send("first");
    (void)t.expect_tx();
    t.app_send("second");
    REQUIRE(t.expect_tx().payload == "second");
}

TEST_CASE("ESTABLISHED: data larger than the MSS is cut into full-sized segments", "[tcp][rfc9293]") {
    TcpFixture t;
    t.make_established();
    const std::string data(3000, 'd');
    t.app_send(data);
    REQUIRE(t.expect_tx().payload.size() == 1460);
    REQUIRE(t.expect_tx().payload.size() == 1460);
    REQUIRE(t.expect_tx().payload.size() == 80);
}

TEST_CASE("ESTABLISHED: the send window limits what is in flight (RFC 9293 3.8.6)", "[tcp][rfc9293]") {
    TcpFixture t;
    t.make_syn_received();
    t.send({.seq = remote_iss + 1, .ack = local_iss + 1, .flags = flag::ack, .window = 1000});
    t.app_send(std::string(3000, 'w'));
    REQUIRE(t.expect_tx().payload.size() == 1000);
    t.expect_no_tx();
}

TEST_CASE("ESTABLISHED: retransmission timeout resends from SND.UNA and backs off (RFC 6298 5)",
          "[tcp][rfc6298]") {
    TcpFixture t;
    t.make_established();
    t.app_send("lost");
    (void)t.expect_tx();
    const Duration rto = t.tcb.rtt.rto();
    t.advance(rto);
    const Sent again = t.expect_tx();
    REQUIRE(again.payload == "lost");
    REQUIRE(again.hdr.seq == local_iss + 1);
    REQUIRE(t.tcb.rtt.rto() == rto + rto);
    REQUIRE(t.counters.timeouts == 1);
}

TEST_CASE("ESTABLISHED: three duplicate ACKs -> fast retransmit (RFC 5681 3.2)", "[tcp][rfc5681]") {
    TcpFixture t;
    t.make_established();
    t.tcb.nagle = false;
    for (int i = 0; i < 5; ++i) {
        t.app_send(std::string(t.tcb.snd.mss, static_cast<char>('a' + i)));
        (void)t.expect_tx();
    }
    for (int i = 0; i < 3; ++i) {
        t.send({.seq = remote_iss + 1, .ack = local_iss + 1, .flags = flag::ack, .window = 64240});
    }
    const Sent resent = t.expect_tx();
    REQUIRE(resent.hdr.seq == local_iss + 1);
    REQUIRE(resent.payload == std::string(t.tcb.snd.mss, 'a'));
    REQUIRE(t.counters.fast_retransmits == 1);
}

namespace {

/// ESTABLISHED with SACK on both sides, Nagle off, and `segments` full
/// segments of data in flight (each filled with its own letter).
TcpFixture& sack_sender(TcpFixture& t, int segments) {
    wire::TcpOptions peer;
    peer.sack_permitted = true;
    t.make_syn_received(peer);
    REQUIRE(t.tcb.sack_ok);
    t.send({.seq = remote_iss + 1, .ack = local_iss + 1, .flags = flag::ack, .window = 64240});
    t.take_events();
    t.tcb.nagle = false;
    for (int i = 0; i < segments; ++i) {
        t.app_send(std::string(t.tcb.snd.mss, static_cast<char>('a' + i)));
    }
    return t;
}

tcp::TcpConfig sack_config() {
    tcp::TcpConfig c = TcpFixture::quiet_config();
    c.sack = true;
    return c;
}

/// A duplicate ACK of SND.UNA = local_iss + 1 SACKing [from, to) segments.
wire::TcpRepr sack_dupack(std::uint32_t mss, std::initializer_list<std::pair<int, int>> blocks) {
    wire::TcpRepr r{.seq = remote_iss + 1, .ack = local_iss + 1, .flags = flag::ack, .window = 64240};
    for (const auto& [from, to] : blocks) {
        r.options.sack[r.options.sack_count++] =
            wire::SackBlock{local_iss + 1 + mss * from, local_iss + 1 + mss * to};
    }
    return r;
}

} // namespace

TEST_CASE("SACK recovery: every hole deemed lost is resent at once, not one per round trip"
          " (RFC 6675 section 5)",
          "[tcp][rfc6675]") {
    TcpFixture t(sack_config());
    sack_sender(t, 8);
    while (!t.out.empty()) {
        (void)t.expect_tx();
    }
    const std::uint32_t mss = t.tcb.snd.mss;
    // Segments 0 and 3 were lost: the peer holds 1-2 and 4-7.
    t.send(sack_dupack(mss, {{1, 3}}));
    t.send(sack_dupack(mss, {{4, 5}, {1, 3}}));
    t.send(sack_dupack(mss, {{4, 8}, {1, 3}}));
    // The third duplicate: segment 0 at once, then segment 3, deemed lost
    // with four segments SACKed above it, in the same burst.
    REQUIRE(t.expect_tx().payload == std::string(mss, 'a'));
    REQUIRE(t.expect_tx().payload == std::string(mss, 'd'));
    t.expect_no_tx();
    REQUIRE(t.tcb.sack_recovery);
    // The ACK of both ends recovery.
    t.send({.seq = remote_iss + 1, .ack = local_iss + 1 + 8 * mss, .flags = flag::ack, .window = 64240});
    REQUIRE_FALSE(t.tcb.sack_recovery);
    REQUIRE(t.tcb.sacked.empty());
}

TEST_CASE("SACK recovery: the pipe counts what is in flight, not what the peer SACKed or lost"
          " (RFC 6675 section 4, SetPipe)",
          "[tcp][rfc6675]") {
    TcpFixture t(sack_config());
    sack_sender(t, 8);
    while (!t.out.empty()) {
        (void)t.expect_tx();
    }
    const std::uint32_t mss = t.tcb.snd.mss;
    REQUIRE(tcp::sack_pipe(t.tcb) == 8 * mss);
    t.send(sack_dupack(mss, {{4, 8}}));
    // 4-7 SACKed; 0-3 each have four segments SACKed above: lost.
    REQUIRE(tcp::sack_pipe(t.tcb) == 0);
    t.tcb.sacked.clear();
    t.send(sack_dupack(mss, {{7, 8}}));
    // One segment SACKed above 0-6: none deemed lost yet.
    REQUIRE(tcp::sack_pipe(t.tcb) == 7 * mss);
}

TEST_CASE("RTO: resending from SND.UNA skips what the peer SACKed (RFC 6675 section 5.1)",
          "[tcp][rfc6675]") {
    TcpFixture t(sack_config());
    sack_sender(t, 4);
    while (!t.out.empty()) {
        (void)t.expect_tx();
    }
    const std::uint32_t mss = t.tcb.snd.mss;
    t.send(sack_dupack(mss, {{1, 3}})); // one duplicate: no recovery
    t.advance(t.tcb.rtt.rto());
    REQUIRE(t.expect_tx().hdr.seq == local_iss + 1); // segment 0, cwnd is one segment
    t.send({.seq = remote_iss + 1, .ack = local_iss + 1 + mss, .flags = flag::ack, .window = 64240,
            .options = {}}, {});
    // Segments 1 and 2 are SACKed: next goes segment 3.
    const Sent next = t.expect_tx();
    REQUIRE(next.hdr.seq == local_iss + 1 + 3 * mss);
}

TEST_CASE("RTO with data in flight behind a closed window: the first segment goes as the probe, and"
          " no number of them gives up while the peer answers (RFC 9293 3.8.6.1)",
          "[tcp][rfc9293]") {
    tcp::TcpConfig c = TcpFixture::quiet_config();
    c.data_retries = 3;
    TcpFixture t(c);
    t.make_established();
    t.tcb.nagle = false;
    t.app_send("held");
    (void)t.expect_tx();
    // The peer closed its window without taking the data (its ACK of the
    // data, and the window update after it, were lost).
    t.send({.seq = remote_iss + 1, .ack = local_iss + 1, .flags = flag::ack, .window = 0});
    for (int i = 0; i < 6; ++i) {
        t.advance(t.tcb.rtt.rto());
        const Sent probe = t.expect_tx();
        REQUIRE(probe.hdr.seq == local_iss + 1);
        REQUIRE(probe.payload == "held");
        t.send({.seq = remote_iss + 1, .ack = local_iss + 1, .flags = flag::ack, .window = 0});
    }
    REQUIRE(t.tcb.state == TcpState::established);
    t.send({.seq = remote_iss + 1, .ack = local_iss + 5, .flags = flag::ack, .window = 64240});
    REQUIRE(t.tcb.snd.una == local_iss + 5);
}

TEST_CASE("ESTABLISHED: zero window -> persist probes until it opens (RFC 9293 3.8.6.1)",
          "[tcp][rfc9293]") {
    TcpFixture t;
    t.make_syn_received();
    t.send({.seq = remote_iss + 1, .ack = local_iss + 1, .flags = flag::ack, .window = 0});
    t.app_send("blocked");
    t.expect_no_tx();
    t.advance(t.tcb.rtt.rto());
    const Sent probe = t.expect_tx();
    REQUIRE(probe.hdr.seq == local_iss); // SND.UNA - 1: an old byte elicits the window
    REQUIRE(probe.payload.empty());
    t.send({.seq = remote_iss + 1, .ack = local_iss + 1, .flags = flag::ack, .window = 1000});
    REQUIRE(t.expect_tx().payload == "blocked");
}

TEST_CASE("ESTABLISHED: a peer that answers zero-window probes is probed for ever; one that falls silent"
          " is given up on after data_retries probes (RFC 9293 3.8.6.1, MUST-26)",
          "[tcp][rfc9293]") {
    tcp::TcpConfig c = TcpFixture::quiet_config();
    c.data_retries = 4;
    TcpFixture t(c);
    t.make_syn_received();
    t.send({.seq = remote_iss + 1, .ack = local_iss + 1, .flags = flag::ack, .window = 0});
    t.app_send("blocked");
    t.take_events();
    for (int i = 0; i < 20; ++i) { // answered: never gives up
        t.advance(t.tcb.rtt.rto());
        REQUIRE(t.expect_tx().hdr.seq == local_iss);
        t.send({.seq = remote_iss + 1, .ack = local_iss + 1, .flags = flag::ack, .window = 0});
    }
    for (int i = 0; i < 4; ++i) { // silent
        t.advance(t.tcb.rtt.rto());
        REQUIRE(t.expect_tx().hdr.seq == local_iss);
    }
    REQUIRE(t.tcb.state == TcpState::established);
    t.advance(t.tcb.rtt.rto());
    t.expect_no_tx();
    REQUIRE(t.tcb.state == TcpState::closed);
    REQUIRE(t.tcb.close_reason == tcp::CloseReason::timed_out);
}

TEST_CASE("ESTABLISHED: a FIN that finds no mbuf is sent when the retransmission timer fires, even with"
          " nothing in flight",
          "[tcp][buffers]") {
    TcpFixture t;
    t.make_established();
    std::vector<wire::MbufPtr> hoard;
    while (rte_mbuf* m = rte_pktmbuf_alloc(pool())) {
        hoard.emplace_back(m);
    }
    auto e = t.env();
    tcp::close(t.tcb, e);
    REQUIRE(t.tcb.state == TcpState::fin_wait_1);
    t.expect_no_tx();
    REQUIRE(t.wheel.armed(t.tcb.rtx_timer));
    hoard.clear();
    t.advance(t.tcb.rtt.rto());
    REQUIRE(t.expect_tx().hdr.flags == (flag::fin | flag::ack));
}

TEST_CASE("ESTABLISHED: a window smaller than SWS avoidance waits for is used when the persist timer"
          " fires (RFC 9293 3.8.6.2.1, override timeout)",
          "[tcp][rfc9293]") {
    TcpFixture t;
    t.make_established();
    t.tcb.nagle = false;
    // The peer offered a large window once, then only 100 bytes: 100 is
    // less than half the largest window, so the sender holds its data.
    t.send({.seq = remote_iss + 1, .ack = local_iss + 1, .flags = flag::ack, .window = 100});
    t.app_send(std::string(1000, 'w'));
    t.expect_no_tx();
    // The window update that would free it may be lost: nothing else would
    // ever move the data, so the persist timer sends what fits.
    t.advance(t.tcb.rtt.rto());
    const Sent s = t.expect_tx();
    REQUIRE(s.payload.size() == 100);
    REQUIRE(s.hdr.seq == local_iss + 1);
}

TEST_CASE("ESTABLISHED: no window update for an opening smaller than min(MSS, buffer/2), even from a"
          " closed window (RFC 9293 3.8.6.2.2)",
          "[tcp][rfc9293]") {
    tcp::TcpConfig c = TcpFixture::quiet_config();
    c.recv_buffer_bytes = 4000;
    TcpFixture t(c);
    t.make_established();
    const std::string chunk(1000, 'r');
    for (int i = 0; i < 4; ++i) {
        t.send({.seq = remote_iss + 1 + 1000u * i, .ack = local_iss + 1, .flags = flag::ack, .window = 64240},
               chunk);
    }
    t.advance(Duration::from_ms(40));
    REQUIRE(t.expect_tx().hdr.window == 0);
    t.app_consume(100); // 100 bytes free: less than the 1460-byte MSS
    t.expect_no_tx();
    t.app_consume(1900); // 2000 free: half the buffer
    REQUIRE(t.expect_tx().hdr.window == 2000);
}

TEST_CASE("ESTABLISHED: after a timeout rewinds SND.NXT a bare ACK carries SND.MAX, so a peer holding"
          " more accepts it",
          "[tcp]") {
    TcpFixture t;
    t.make_established();
    t.tcb.nagle = false;
    t.app_send(std::string(3000, 'd'));
    (void)t.expect_tx();
    (void)t.expect_tx();
    (void)t.expect_tx();
    t.advance(t.tcb.rtt.rto()); // nothing was acknowledged: resend from SND.UNA
    REQUIRE(t.expect_tx().hdr.seq == local_iss + 1);
    // The peer's data asks for an ACK: it must carry a sequence number the
    // peer finds acceptable even though it already holds all 3000 bytes
    // (RCV.NXT = local_iss + 3001); SND.NXT (local_iss + 1461) would not be.
    t.send({.seq = remote_iss + 1, .ack = local_iss + 1, .flags = flag::ack, .window = 64240}, "x");
    t.advance(Duration::from_ms(200));
    const Sent ack = t.expect_tx();
    REQUIRE(ack.payload.empty());
    REQUIRE(ack.hdr.seq == local_iss + 3001);
}

// ---------------------------------------------------------------- closing

TEST_CASE("ESTABLISHED: close -> FIN-WAIT-1 -> FIN-WAIT-2 -> TIME-WAIT -> CLOSED after 2 MSL"
          " (RFC 9293 3.10.4, 3.10.7.4)",
          "[tcp][rfc9293]") {
    TcpFixture t;
    t.make_established();
    auto e = t.env();
    tcp::shutdown_write(t.tcb, e);
    REQUIRE(t.tcb.state == TcpState::fin_wait_1);
    const Sent fin = t.expect_tx();
    REQUIRE(fin.hdr.flags == (flag::fin | flag::ack));
    REQUIRE(fin.hdr.seq == local_iss + 1);
    t.send({.seq = remote_iss + 1, .ack = local_iss + 2, .flags = flag::ack, .window = 64240});
    REQUIRE(t.tcb.state == TcpState::fin_wait_2);
    t.send({.seq = remote_iss + 1, .ack = local_iss + 2, .flags = flag::fin | flag::ack,
            .window = 64240});
    REQUIRE(t.tcb.state == TcpState::time_wait);
    REQUIRE(t.expect_tx().hdr.ack == remote_iss + 2);
    REQUIRE(t.saw_event(ConnEvent::peer_closed));
    t.advance(t.config.msl + t.config.msl - Duration::from_ms(1));
    REQUIRE(t.tcb.state == TcpState::time_wait);
    t.advance(Duration::from_ms(1));
    REQUIRE(t.tcb.state == TcpState::closed);
    REQUIRE(t.tcb.close_reason == tcp::CloseReason::normal);
}

TEST_CASE("FIN-WAIT-2: data still flows in after our FIN (half-close)", "[tcp][rfc9293]") {
    TcpFixture t;
    t.make_established();
    auto e = t.env();
    tcp::shutdown_write(t.tcb, e);
    (void)t.expect_tx();
    t.send({.seq = remote_iss + 1, .ack = local_iss + 2, .flags = flag::ack, .window = 64240});
    REQUIRE(t.tcb.state == TcpState::fin_wait_2);
    t.send({.seq = remote_iss + 1, .ack = local_iss + 2, .flags = flag::ack, .window = 64240},
           "still talking");
    REQUIRE(t.app_read() == "still talking");
}

TEST_CASE("ESTABLISHED: peer FIN -> CLOSE-WAIT; close -> LAST-ACK; ACK -> CLOSED (RFC 9293 3.10.7.4)",
          "[tcp][rfc9293]") {
    TcpFixture t;
    t.make_established();
    t.send({.seq = remote_iss + 1, .ack = local_iss + 1, .flags = flag::fin | flag::ack,
            .window = 64240});
    REQUIRE(t.tcb.state == TcpState::close_wait);
    REQUIRE(t.expect_tx().hdr.ack == remote_iss + 2);
    REQUIRE(t.saw_event(ConnEvent::peer_closed));
    t.app_send("reply after FIN"); // half-close: we may still send
    REQUIRE(t.expect_tx().payload == "reply after FIN");
    auto e = t.env();
    tcp::shutdown_write(t.tcb, e);
    REQUIRE(t.tcb.state == TcpState::last_ack);
    const Sent fin = t.expect_tx();
    REQUIRE((fin.hdr.flags & flag::fin) != 0);
    t.send({.seq = remote_iss + 2, .ack = fin.hdr.seq + 1, .flags = flag::ack, .window = 64240});
    REQUIRE(t.tcb.state == TcpState::closed);
    REQUIRE(t.tcb.close_reason == tcp::CloseReason::normal);
}

TEST_CASE("FIN-WAIT-1: a FIN that also acknowledges ours -> TIME-WAIT at once (RFC 9293 3.10.7.4)",
          "[tcp][rfc9293]") {
    TcpFixture t;
    t.make_established();
    auto e = t.env();
    tcp::shutdown_write(t.tcb, e);
    REQUIRE(t.tcb.state == TcpState::fin_wait_1);
    (void)t.expect_tx();
    t.send({.seq = remote_iss + 1, .ack = local_iss + 2, .flags = flag::fin | flag::ack, .window = 64240});
    REQUIRE(t.tcb.state == TcpState::time_wait);
    REQUIRE(t.expect_tx().hdr.ack == remote_iss + 2);
}

TEST_CASE("SYN-RECEIVED: close is queued until the handshake completes, then FIN-WAIT-1"
          " (RFC 9293 3.10.4)",
          "[tcp][rfc9293]") {
    TcpFixture t;
    t.make_syn_received();
    auto e = t.env();
    tcp::shutdown_write(t.tcb, e);
    REQUIRE(t.tcb.state == TcpState::syn_received);
    t.expect_no_tx(); // "queue for processing after entering ESTABLISHED"
    t.send({.seq = remote_iss + 1, .ack = local_iss + 1, .flags = flag::ack, .window = 64240});
    REQUIRE(t.tcb.state == TcpState::fin_wait_1);
    const Sent fin = t.expect_tx();
    REQUIRE((fin.hdr.flags & flag::fin) != 0);
    REQUIRE(fin.hdr.seq == local_iss + 1);
}

TEST_CASE("SYN-SENT: close -> CLOSED, nothing sent (RFC 9293 3.10.4)", "[tcp][rfc9293]") {
    TcpFixture t;
    auto e = t.env();
    REQUIRE(tcp::open_active(t.tcb, local_iss, e));
    (void)t.expect_tx();
    tcp::shutdown_write(t.tcb, e);
    REQUIRE(t.tcb.state == TcpState::closed);
    t.expect_no_tx();
}

TEST_CASE("FIN-WAIT-1: peer FIN before the ACK of ours -> CLOSING -> TIME-WAIT (simultaneous close)",
          "[tcp][rfc9293]") {
    TcpFixture t;
    t.make_established();
    auto e = t.env();
    tcp::shutdown_write(t.tcb, e);
    (void)t.expect_tx();
    t.send({.seq = remote_iss + 1, .ack = local_iss + 1, .flags = flag::fin | flag::ack,
            .window = 64240});
    REQUIRE(t.tcb.state == TcpState::closing);
    REQUIRE(t.expect_tx().hdr.ack == remote_iss + 2);
    t.send({.seq = remote_iss + 2, .ack = local_iss + 2, .flags = flag::ack, .window = 64240});
    REQUIRE(t.tcb.state == TcpState::time_wait);
}

TEST_CASE("TIME-WAIT: a retransmitted FIN is ACKed and restarts 2 MSL (RFC 9293 3.10.7.4)",
          "[tcp][rfc9293]") {
    TcpFixture t;
    t.make_time_wait();
    t.advance(t.config.msl);
    t.send({.seq = remote_iss + 1, .ack = local_iss + 2, .flags = flag::fin | flag::ack,
            .window = 64240});
    REQUIRE(t.expect_tx().hdr.ack == remote_iss + 2);
    t.advance(t.config.msl + Duration::from_ms(10));
    REQUIRE(t.tcb.state == TcpState::time_wait); // restarted: 2 MSL from the second FIN
    t.advance(t.config.msl);
    REQUIRE(t.tcb.state == TcpState::closed);
}

TEST_CASE("TIME-WAIT: a RST does not end it early (RFC 1337 section 3, TIME-WAIT assassination)",
          "[tcp][rfc1337]") {
    TcpFixture t;
    t.make_time_wait();
    t.send({.seq = remote_iss + 2, .flags = flag::rst});
    REQUIRE(t.tcb.state == TcpState::time_wait);
    t.expect_no_tx();
    REQUIRE(t.counters.drops[tcp::DropReason::rst_in_time_wait] == 1);
    t.advance(t.config.msl * 2);
    REQUIRE(t.tcb.state == TcpState::closed);
    REQUIRE(t.tcb.close_reason == tcp::CloseReason::normal);
}

namespace {

/// A connection in TIME-WAIT, shrunk to its record, and segments for it.
struct TimeWaitFixture : TcpFixture {
    tcp::TimeWait tw;

    TimeWaitFixture() {
        make_time_wait();
        tw = tcp::time_wait_of(tcb);
    }

    tcp::TimeWaitAction arrive(wire::TcpRepr seg, std::string_view payload = {}) {
        seg.src_port = remote_port;
        seg.dst_port = local_port;
        std::vector<std::uint8_t> bytes(seg.header_len());
        seg.emit(bytes);
        bytes.insert(bytes.end(), payload.begin(), payload.end());
        auto parsed = wire::parse_tcp(bytes, wire::ChecksumCheck::known_good());
        REQUIRE(parsed.ok());
        auto e = env();
        return tcp::time_wait_arrives(tw, *parsed, e);
    }
};

} // namespace

TEST_CASE("TIME-WAIT record: keeps what the state needs (RFC 9293 3.10.7.4)", "[tcp][rfc9293]") {
    TimeWaitFixture t;
    REQUIRE(t.tw.snd_nxt == local_iss + 2);
    REQUIRE(t.tw.rcv_nxt == remote_iss + 2);
    REQUIRE(t.tw.tuple == t.tcb.tuple);
}

TEST_CASE("TIME-WAIT record: the peer's FIN again is ACKed and 2 MSL restart (RFC 9293 3.10.7.4)",
          "[tcp][rfc9293]") {
    TimeWaitFixture t;
    REQUIRE(t.arrive({.seq = remote_iss + 1, .ack = local_iss + 2, .flags = flag::fin | flag::ack,
                      .window = 64240}) == tcp::TimeWaitAction::restart);
    const Sent ack = t.expect_tx();
    REQUIRE(ack.hdr.flags == flag::ack);
    REQUIRE(ack.hdr.seq == local_iss + 2);
    REQUIRE(ack.hdr.ack == remote_iss + 2);
}

TEST_CASE("TIME-WAIT record: a RST is ignored (RFC 1337 section 3)", "[tcp][rfc1337]") {
    TimeWaitFixture t;
    REQUIRE(t.arrive({.seq = remote_iss + 2, .flags = flag::rst}) == tcp::TimeWaitAction::keep);
    t.expect_no_tx();
    REQUIRE(t.counters.drops[tcp::DropReason::rst_in_time_wait] == 1);
}

TEST_CASE("TIME-WAIT record: a bare ACK at RCV.NXT needs nothing; an old or data segment is ACKed"
          " (RFC 9293 3.10.7.4)",
          "[tcp][rfc9293]") {
    TimeWaitFixture t;
    REQUIRE(t.arrive({.seq = remote_iss + 2, .ack = local_iss + 2, .flags = flag::ack, .window = 64240}) ==
            tcp::TimeWaitAction::keep);
    t.expect_no_tx();
    REQUIRE(t.arrive({.seq = remote_iss + 1, .ack = local_iss + 2, .flags = flag::ack, .window = 64240}) ==
            tcp::TimeWaitAction::keep);
    REQUIRE(t.expect_tx().hdr.ack == remote_iss + 2);
    REQUIRE(t.arrive({.seq = remote_iss + 2, .ack = local_iss + 2, .flags = flag::ack, .window = 64240}, "late") ==
            tcp::TimeWaitAction::keep);
    REQUIRE(t.expect_tx().hdr.ack == remote_iss + 2);
}

TEST_CASE("TIME-WAIT record: a SYN beyond RCV.NXT may reopen the ports (RFC 6191, RFC 1122 4.2.2.13)",
          "[tcp][rfc6191]") {
    TimeWaitFixture t;
    REQUIRE(t.arrive({.seq = remote_iss + 100000, .flags = flag::syn, .window = 64240}) ==
            tcp::TimeWaitAction::reopen);
    t.expect_no_tx();
}

TEST_CASE("TIME-WAIT record: an old SYN gets a challenge ACK instead (RFC 5961 4.2)", "[tcp][rfc5961]") {
    TimeWaitFixture t;
    REQUIRE(t.arrive({.seq = remote_iss, .flags = flag::syn, .window = 64240}) == tcp::TimeWaitAction::keep);
    const Sent ack = t.expect_tx();
    REQUIRE(ack.hdr.flags == flag::ack);
    REQUIRE(ack.hdr.ack == remote_iss + 2);
    REQUIRE(t.counters.challenge_acks == 1);
}

TEST_CASE("TIME-WAIT record: with timestamps, a newer TSval reopens and an older one is an old"
          " duplicate (RFC 6191 section 2, RFC 7323 5.3)",
          "[tcp][rfc6191][rfc7323]") {
    TimeWaitFixture t;
    t.tw.ts_ok = true;
    t.tw.ts_recent = 5000;
    wire::TcpRepr old_seg{.seq = remote_iss + 2, .ack = local_iss + 2, .flags = flag::ack, .window = 64240};
    old_seg.options.timestamps = wire::Timestamps{4000, 1};
    REQUIRE(t.arrive(old_seg) == tcp::TimeWaitAction::keep);
    const Sent ack = t.expect_tx();
    REQUIRE(ack.hdr.options.timestamps);
    REQUIRE(ack.hdr.options.timestamps->echo_reply == 5000);
    wire::TcpRepr syn{.seq = remote_iss, .flags = flag::syn, .window = 64240}; // not beyond RCV.NXT
    syn.options.timestamps = wire::Timestamps{6000, 0};
    REQUIRE(t.arrive(syn) == tcp::TimeWaitAction::reopen);
}

TEST_CASE("ESTABLISHED: challenge ACKs are throttled per connection (RFC 5961 section 7)",
          "[tcp][rfc5961]") {
    TcpFixture t;
    t.make_established();
    // RSTs in the window but not at RCV.NXT: each calls for a challenge ACK.
    t.send({.seq = remote_iss + 100, .flags = flag::rst});
    REQUIRE(t.expect_tx().hdr.flags == flag::ack);
    t.send({.seq = remote_iss + 200, .flags = flag::rst});
    t.send({.seq = remote_iss + 300, .flags = flag::syn, .window = 64240});
    t.expect_no_tx();
    REQUIRE(t.counters.challenge_acks == 1);
    REQUIRE(t.counters.invalid_acks_limited == 2);
    t.advance(t.config.invalid_ack_interval);
    t.send({.seq = remote_iss + 400, .flags = flag::rst});
    REQUIRE(t.expect_tx().hdr.flags == flag::ack);
    REQUIRE(t.tcb.state == TcpState::established);
}

TEST_CASE("ESTABLISHED: unacceptable bare ACKs draw one ACK per interval, resent data always one"
          " (RFC 9293 3.10.7.4; no ACK ping-pong)",
          "[tcp][rfc9293]") {
    TcpFixture t;
    t.make_established();
    // Old bare ACKs (below RCV.NXT after data arrived): only the first is answered.
    t.send({.seq = remote_iss + 1, .ack = local_iss + 1, .flags = flag::ack, .window = 64240}, "abc");
    t.advance(Duration::from_ms(200)); // the delayed ACK of "abc"
    (void)t.expect_tx();
    t.send({.seq = remote_iss + 1, .ack = local_iss + 1, .flags = flag::ack, .window = 64240});
    REQUIRE(t.expect_tx().hdr.ack == remote_iss + 4);
    t.send({.seq = remote_iss + 1, .ack = local_iss + 1, .flags = flag::ack, .window = 64240});
    t.expect_no_tx();
    // A resent data segment is answered every time: the peer needs the ACK.
    t.send({.seq = remote_iss + 1, .ack = local_iss + 1, .flags = flag::ack, .window = 64240}, "abc");
    REQUIRE(t.expect_tx().hdr.ack == remote_iss + 4);
    t.send({.seq = remote_iss + 1, .ack = local_iss + 1, .flags = flag::ack, .window = 64240}, "abc");
    REQUIRE(t.expect_tx().hdr.ack == remote_iss + 4);
}

TEST_CASE("ESTABLISHED: abort -> RST <SEQ=SND.NXT>, CLOSED (RFC 9293 3.10.5)", "[tcp][rfc9293]") {
    TcpFixture t;
    t.make_established();
    auto e = t.env();
    tcp::abort(t.tcb, e);
    const Sent rst = t.expect_tx();
    REQUIRE(rst.hdr.flags == flag::rst);
    REQUIRE(rst.hdr.seq == local_iss + 1);
    REQUIRE(t.tcb.state == TcpState::closed);
    REQUIRE(t.tcb.close_reason == tcp::CloseReason::aborted);
}

// ---------------------------------------------------------------- CLOSED

TEST_CASE("CLOSED: a segment with ACK gets <SEQ=SEG.ACK><CTL=RST> (RFC 9293 3.10.7.1)",
          "[tcp][rfc9293]") {
    TcpFixture t;
    wire::TcpRepr seg{.seq = Seq32(5), .ack = Seq32(777), .flags = flag::ack, .window = 1};
    std::vector<std::uint8_t> bytes(seg.header_len());
    seg.emit(bytes);
    auto parsed = wire::parse_tcp(bytes, wire::ChecksumCheck::known_good());
    auto e = t.env();
    tcp::reset_for_no_connection(t.tcb.tuple, *parsed, e);
    const Sent rst = t.expect_tx();
    REQUIRE(rst.hdr.flags == flag::rst);
    REQUIRE(rst.hdr.seq == Seq32(777));
}

TEST_CASE("CLOSED: a SYN gets <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> (RFC 9293 3.10.7.1)",
          "[tcp][rfc9293]") {
    TcpFixture t;
    wire::TcpRepr seg{.seq = Seq32(1000), .flags = flag::syn, .window = 1};
    std::vector<std::uint8_t> bytes(seg.header_len());
    seg.emit(bytes);
    auto parsed = wire::parse_tcp(bytes, wire::ChecksumCheck::known_good());
    auto e = t.env();
    tcp::reset_for_no_connection(t.tcb.tuple, *parsed, e);
    const Sent rst = t.expect_tx();
    REQUIRE(rst.hdr.flags == (flag::rst | flag::ack));
    REQUIRE(rst.hdr.seq == Seq32(0));
    REQUIRE(rst.hdr.ack == Seq32(1001));
}

TEST_CASE("CLOSED: a RST gets nothing (RFC 9293 3.10.7.1)", "[tcp][rfc9293]") {
    TcpFixture t;
    wire::TcpRepr seg{.seq = Seq32(1000), .flags = flag::rst};
    std::vector<std::uint8_t> bytes(seg.header_len());
    seg.emit(bytes);
    auto parsed = wire::parse_tcp(bytes, wire::ChecksumCheck::known_good());
    auto e = t.env();
    tcp::reset_for_no_connection(t.tcb.tuple, *parsed, e);
    t.expect_no_tx();
}

// ---------------------------------------------------------------- options

TEST_CASE("timestamps: negotiated on the SYN, echoed on every segment (RFC 7323 3.2)",
          "[tcp][rfc7323]") {
    tcp::TcpConfig c = TcpFixture::quiet_config();
    c.timestamps = true;
    TcpFixture t(c);
    wire::TcpOptions peer;
    peer.timestamps = wire::Timestamps{123, 0};
    t.make_syn_received(peer);
    REQUIRE(t.tcb.ts_ok);
    REQUIRE(t.tcb.ts_recent == 123);
    t.send({.seq = remote_iss + 1, .ack = local_iss + 1, .flags = flag::ack, .window = 64240,
            .options = {.timestamps = wire::Timestamps{124, 5}}});
    t.app_send("x");
    const Sent s = t.expect_tx();
    REQUIRE(s.hdr.options.timestamps.has_value());
    REQUIRE(s.hdr.options.timestamps->echo_reply == 124);
}

TEST_CASE("timestamps: an older TSval is an old duplicate: ACK and drop (RFC 7323 5.3 PAWS)",
          "[tcp][rfc7323]") {
    tcp::TcpConfig c = TcpFixture::quiet_config();
    c.timestamps = true;
    TcpFixture t(c);
    wire::TcpOptions peer;
    peer.timestamps = wire::Timestamps{1000, 0};
    t.make_syn_received(peer);
    t.send({.seq = remote_iss + 1, .ack = local_iss + 1, .flags = flag::ack, .window = 64240,
            .options = {.timestamps = wire::Timestamps{1001, 0}}});
    t.send({.seq = remote_iss + 1, .ack = local_iss + 1, .flags = flag::ack, .window = 64240,
            .options = {.timestamps = wire::Timestamps{900, 0}}},
           "stale");
    REQUIRE(t.counters.drops[tcp::DropReason::paws] == 1);
    REQUIRE(t.app_read().empty());
    REQUIRE(t.expect_tx().hdr.flags == flag::ack);
}

TEST_CASE("window scale: applied to the peer's windows after the SYN (RFC 7323 2.2)",
          "[tcp][rfc7323]") {
    tcp::TcpConfig c = TcpFixture::quiet_config();
    c.window_scaling = true;
    c.recv_buffer_bytes = 1 << 20;
    TcpFixture t(c);
    wire::TcpOptions peer;
    peer.window_scale = 7;
    t.make_syn_received(peer);
    REQUIRE(t.tcb.snd.wscale == 7);
    REQUIRE(t.tcb.rcv.wscale == tcp::window_scale_for(1 << 20));
    t.send({.seq = remote_iss + 1, .ack = local_iss + 1, .flags = flag::ack, .window = 100});
    REQUIRE(t.tcb.snd.wnd == 100u << 7);
}

TEST_CASE("window scale: a shift above 14 is taken as 14 (RFC 7323 2.3)", "[tcp][rfc7323]") {
    tcp::TcpConfig c = TcpFixture::quiet_config();
    c.window_scaling = true;
    TcpFixture t(c);
    wire::TcpOptions peer;
    peer.window_scale = 20;
    t.make_syn_received(peer);
    REQUIRE(t.tcb.snd.wscale == 14);
}

// ---------------------------------------------------------------- more rules

TEST_CASE("ESTABLISHED: data and FIN in one segment -> both taken, CLOSE-WAIT", "[tcp][rfc9293]") {
    TcpFixture t;
    t.make_established();
    t.send({.seq = remote_iss + 1, .ack = local_iss + 1, .flags = flag::fin | flag::ack | flag::psh,
            .window = 64240},
           "bye");
    REQUIRE(t.tcb.state == TcpState::close_wait);
    REQUIRE(t.expect_tx().hdr.ack == remote_iss + 5); // 3 bytes + FIN
    REQUIRE(t.app_read() == "bye");
}

TEST_CASE("ESTABLISHED: a FIN beyond a hole is not taken until the hole fills", "[tcp][rfc9293]") {
    TcpFixture t;
    t.make_established();
    t.send({.seq = remote_iss + 4, .ack = local_iss + 1, .flags = flag::fin | flag::ack,
            .window = 64240},
           "def");
    REQUIRE(t.tcb.state == TcpState::established);
    REQUIRE(t.expect_tx().hdr.ack == remote_iss + 1);
    // The peer retransmits everything from the hole on, FIN included.
    t.send({.seq = remote_iss + 1, .ack = local_iss + 1, .flags = flag::fin | flag::ack,
            .window = 64240},
           "abcdef");
    REQUIRE(t.tcb.state == TcpState::close_wait);
    REQUIRE(t.app_read() == "abcdef");
}

TEST_CASE("ESTABLISHED: a FIN beyond a hole is held; the data filling the hole brings it in, and the"
          " ACK covers it (RFC 9293 3.10.7.4, SHLD-31)",
          "[tcp][rfc9293]") {
    TcpFixture t;
    t.make_established();
    t.send({.seq = remote_iss + 4, .ack = local_iss + 1, .flags = flag::fin | flag::ack,
            .window = 64240},
           "def");
    REQUIRE(t.tcb.state == TcpState::established);
    REQUIRE(t.expect_tx().hdr.ack == remote_iss + 1);
    // Only the missing bytes come again, without the FIN.
    t.send({.seq = remote_iss + 1, .ack = local_iss + 1, .flags = flag::ack, .window = 64240}, "abc");
    REQUIRE(t.tcb.state == TcpState::close_wait);
    REQUIRE(t.expect_tx().hdr.ack == remote_iss + 8); // six bytes and the FIN
    REQUIRE(t.saw_event(ConnEvent::peer_closed));
    REQUIRE(t.app_read() == "abcdef");
}

TEST_CASE("ESTABLISHED: nothing beyond a held FIN is delivered, whichever came first (RFC 9293 3.10.7.4,"
          " eighth)",
          "[tcp][rfc9293]") {
    for (const bool beyond_first : {false, true}) {
        TcpFixture t;
        t.make_established();
        const wire::TcpRepr fin_seg{.seq = remote_iss + 4, .ack = local_iss + 1, .flags = flag::fin | flag::ack,
                                    .window = 64240};
        const wire::TcpRepr beyond{.seq = remote_iss + 8, .ack = local_iss + 1, .flags = flag::ack, .window = 64240};
        if (beyond_first) {
            t.send(beyond, "xyz");
            t.send(fin_seg, "def");
        } else {
            t.send(fin_seg, "def");
            t.send(beyond, "xyz");
        }
        REQUIRE(t.tcb.ooo.bytes() == 3);
        t.send({.seq = remote_iss + 1, .ack = local_iss + 1, .flags = flag::ack, .window = 64240}, "abc");
        REQUIRE(t.tcb.state == TcpState::close_wait);
        REQUIRE(t.app_read() == "abcdef");
        REQUIRE(t.app_read().empty());
        REQUIRE(t.tcb.rcv.nxt == remote_iss + 8);
        REQUIRE(t.tcb.ooo.empty());
    }
}

TEST_CASE("ESTABLISHED: a bare FIN beyond a hole is held too (RFC 9293 3.10.7.4, SHLD-31)",
          "[tcp][rfc9293]") {
    TcpFixture t;
    t.make_established();
    t.send({.seq = remote_iss + 4, .ack = local_iss + 1, .flags = flag::fin | flag::ack,
            .window = 64240});
    REQUIRE(t.expect_tx().hdr.ack == remote_iss + 1);
    t.send({.seq = remote_iss + 1, .ack = local_iss + 1, .flags = flag::ack, .window = 64240}, "abc");
    REQUIRE(t.tcb.state == TcpState::close_wait);
    REQUIRE(t.expect_tx().hdr.ack == remote_iss + 5);
    REQUIRE(t.app_read() == "abc");
}

TEST_CASE("FIN-WAIT-2: data and a FIN beyond a hole; the hole filled -> TIME-WAIT (RFC 9293 3.10.7.4)",
          "[tcp][rfc9293]") {
    TcpFixture t;
    t.make_established();
    auto e = t.env();
    tcp::shutdown_write(t.tcb, e);
    REQUIRE(t.expect_tx().hdr.flags == (flag::fin | flag::ack));
    t.send({.seq = remote_iss + 5, .ack = local_iss + 2, .flags = flag::fin | flag::ack,
            .window = 64240},
           "efgh");
    REQUIRE(t.tcb.state == TcpState::fin_wait_2);
    REQUIRE(t.expect_tx().hdr.ack == remote_iss + 1);
    t.send({.seq = remote_iss + 1, .ack = local_iss + 2, .flags = flag::ack, .window = 64240}, "abcd");
    REQUIRE(t.tcb.state == TcpState::time_wait);
    REQUIRE(t.expect_tx().hdr.ack == remote_iss + 10);
    REQUIRE(t.app_read() == "abcdefgh");
}

TEST_CASE("ESTABLISHED: under critical mbuf pressure, out-of-order data is not held and in-order data"
          " only as a copy onto an mbuf held; the window stays honest",
          "[tcp][buffers]") {
    TcpFixture t;
    t.make_established();
    t.rx_pressure = tcp::RxPressure::critical;
    // Nothing held yet: in-order data would need an mbuf of its own.
    t.send({.seq = remote_iss + 1, .ack = local_iss + 1, .flags = flag::ack, .window = 64240}, "abc");
    REQUIRE(t.expect_tx().hdr.ack == remote_iss + 1);
    REQUIRE(t.counters.drops[tcp::DropReason::rx_pressure] == 1);
    t.rx_pressure = tcp::RxPressure::none;
    t.send({.seq = remote_iss + 1, .ack = local_iss + 1, .flags = flag::ack, .window = 64240}, "abc");
    t.rx_pressure = tcp::RxPressure::critical;
    // Now an mbuf is held: the next bytes are copied onto it.
    t.send({.seq = remote_iss + 4, .ack = local_iss + 1, .flags = flag::ack, .window = 64240}, "def");
    REQUIRE(t.tcb.rcv.nxt == remote_iss + 7);
    REQUIRE(t.tcb.recv.segments() == 1);
    // Out of order: not held, ACKed at once.
    t.send({.seq = remote_iss + 10, .ack = local_iss + 1, .flags = flag::ack, .window = 64240}, "jkl");
    REQUIRE(t.tcb.ooo.empty());
    REQUIRE(t.counters.drops[tcp::DropReason::rx_pressure] == 2);
    t.advance(Duration::from_ms(40));
    while (!t.out.empty()) {
        REQUIRE(t.expect_tx().hdr.ack == remote_iss + 7);
    }
    REQUIRE(t.app_read() == "abcdef");
}

TEST_CASE("FIN-WAIT-1: a lost FIN is retransmitted on timeout", "[tcp][rfc6298]") {
    TcpFixture t;
    t.make_established();
    auto e = t.env();
    tcp::shutdown_write(t.tcb, e);
    const Sent fin = t.expect_tx();
    t.advance(t.tcb.rtt.rto());
    const Sent again = t.expect_tx();
    REQUIRE((again.hdr.flags & flag::fin) != 0);
    REQUIRE(again.hdr.seq == fin.hdr.seq);
}

TEST_CASE("FIN-WAIT-1: unacknowledged data and the FIN are both resent after a timeout",
          "[tcp][rfc6298]") {
    TcpFixture t;
    t.make_established();
    t.app_send("tail");
    (void)t.expect_tx();
    auto e = t.env();
    tcp::shutdown_write(t.tcb, e);
    REQUIRE((t.expect_tx().hdr.flags & flag::fin) != 0);
    t.advance(t.tcb.rtt.rto());
    const Sent again = t.expect_tx();
    REQUIRE(again.payload == "tail");
    REQUIRE((again.hdr.flags & flag::fin) != 0); // data and FIN fit one segment
    t.send({.seq = remote_iss + 1, .ack = local_iss + 6, .flags = flag::ack, .window = 64240});
    REQUIRE(t.tcb.state == TcpState::fin_wait_2);
}

TEST_CASE("FIN-WAIT-2: an orphan (closed by the application) whose peer never closes is given up on",
          "[tcp]") {
    TcpFixture t;
    t.make_established();
    auto e = t.env();
    tcp::close(t.tcb, e);
    (void)t.expect_tx();
    t.send({.seq = remote_iss + 1, .ack = local_iss + 2, .flags = flag::ack, .window = 64240});
    REQUIRE(t.tcb.state == TcpState::fin_wait_2);
    t.advance(t.config.fin_wait_2_timeout);
    REQUIRE(t.tcb.state == TcpState::closed);
    REQUIRE(t.tcb.close_reason == tcp::CloseReason::timed_out);
}

TEST_CASE("FIN-WAIT-2: a half-closed connection still being read waits for the peer as long as it takes"
          " (RFC 9293 3.10.4)",
          "[tcp][rfc9293]") {
    TcpFixture t;
    t.make_established();
    auto e = t.env();
    tcp::shutdown_write(t.tcb, e);
    (void)t.expect_tx();
    t.send({.seq = remote_iss + 1, .ack = local_iss + 2, .flags = flag::ack, .window = 64240});
    REQUIRE(t.tcb.state == TcpState::fin_wait_2);
    t.advance(t.config.fin_wait_2_timeout * 3);
    REQUIRE(t.tcb.state == TcpState::fin_wait_2);
    t.send({.seq = remote_iss + 1, .ack = local_iss + 2, .flags = flag::ack, .window = 64240}, "late");
    REQUIRE(t.app_read() == "late");
}

TEST_CASE("close: unread data resets the connection instead of closing it (RFC 1122 4.2.2.13)",
          "[tcp][rfc1122]") {
    TcpFixture t;
    t.make_established();
    t.send({.seq = remote_iss + 1, .ack = local_iss + 1, .flags = flag::ack, .window = 64240}, "unread");
    auto e = t.env();
    tcp::close(t.tcb, e);
    Sent s = t.expect_tx();
    while ((s.hdr.flags & flag::rst) == 0) {
        s = t.expect_tx(); // the ACK of the data may come first
    }
    REQUIRE(s.hdr.seq == local_iss + 1);
    REQUIRE(t.tcb.state == TcpState::closed);
}

TEST_CASE("close: data arriving after the application closed resets the connection (RFC 1122 4.2.2.13)",
          "[tcp][rfc1122]") {
    TcpFixture t;
    t.make_established();
    auto e = t.env();
    tcp::close(t.tcb, e);
    REQUIRE((t.expect_tx().hdr.flags & flag::fin) != 0);
    REQUIRE(t.tcb.state == TcpState::fin_wait_1);
    t.send({.seq = remote_iss + 1, .ack = local_iss + 2, .flags = flag::ack, .window = 64240}, "late");
    const Sent rst = t.expect_tx();
    REQUIRE((rst.hdr.flags & flag::rst) != 0);
    REQUIRE(t.tcb.state == TcpState::closed);
    REQUIRE(t.counters.drops[tcp::DropReason::data_after_close] == 1);
}

TEST_CASE("ESTABLISHED: the receive window closes as data waits and reopens when it is read"
          " (RFC 9293 3.8.6.2.2)",
          "[tcp][rfc9293]") {
    tcp::TcpConfig c = TcpFixture::quiet_config();
    c.recv_buffer_bytes = 4000;
    TcpFixture t(c);
    t.make_established();
    t.tcb.nagle = false;
    const std::string chunk(1000, 'r');
    for (int i = 0; i < 4; ++i) {
        t.send({.seq = remote_iss + 1 + 1000u * i, .ack = local_iss + 1, .flags = flag::ack,
                .window = 64240},
               chunk);
    }
    t.advance(Duration::from_ms(40));
    const Sent full = t.expect_tx();
    REQUIRE(full.hdr.ack == remote_iss + 4001);
    REQUIRE(full.hdr.window == 0);
    REQUIRE(t.app_read().size() == 4000);
    const Sent update = t.expect_tx(); // the window update
    REQUIRE(update.hdr.window == 4000);
}

TEST_CASE("ESTABLISHED: without window scaling a buffer larger than 64 KiB draws no window update"
          " the field cannot carry (RFC 9293 3.8.6.2.2)",
          "[tcp][rfc9293]") {
    // The peer offered no window scale: the field tops out at 65,535 while
    // the free buffer is 256 KiB. Reading must not ask for an update the
    // field can never show (it used to send an ACK per read, 50,000 a second).
    tcp::TcpConfig c = TcpFixture::quiet_config();
    c.recv_buffer_bytes = 256 * 1024;
    TcpFixture t(c);
    t.make_established();
    REQUIRE(t.tcb.rcv.wscale == 0);
    t.send({.seq = remote_iss + 1, .ack = local_iss + 1, .flags = flag::ack, .window = 64240},
           std::string(1000, 'd'));
    t.advance(Duration::from_ms(40));
    REQUIRE(t.expect_tx().hdr.window == 65535 - 1000); // the edge stays: 1000 < MSS
    REQUIRE(t.app_read().size() == 1000);
    for (int i = 0; i < 100; ++i) {
        t.app_consume(0);
    }
    t.expect_no_tx();
    t.advance(Duration::from_s(2));
    t.expect_no_tx();
}

TEST_CASE("ESTABLISHED: with a large window scale, the part of the buffer below one unit of the scale"
          " draws no window update (RFC 7323 2.3, RFC 9293 3.8.6.2.2)",
          "[tcp][rfc7323]") {
    // At a shift of 12 the field counts 4 KiB units: up to 4,095 free bytes,
    // more than an MSS, can never be announced.
    tcp::TcpConfig c = TcpFixture::quiet_config();
    c.window_scaling = true;
    c.recv_buffer_bytes = (128u << 20) + 3000; // 3000 bytes past a unit of the scale
    TcpFixture t(c);
    wire::TcpOptions peer;
    peer.window_scale = 7;
    t.make_syn_received(peer);
    REQUIRE(t.tcb.rcv.wscale == 12);
    t.send({.seq = remote_iss + 1, .ack = local_iss + 1, .flags = flag::ack, .window = 100});
    REQUIRE(t.tcb.state == TcpState::established);
    t.take_events();
    t.send({.seq = remote_iss + 1, .ack = local_iss + 1, .flags = flag::ack, .window = 100},
           std::string(1000, 'd'));
    t.advance(Duration::from_ms(40));
    (void)t.expect_tx();
    REQUIRE(t.app_read().size() == 1000);
    for (int i = 0; i < 100; ++i) {
        t.app_consume(0);
    }
    // At most the one update that reading 1000 bytes may bring.
    if (!t.out.empty()) {
        (void)t.expect_tx();
    }
    t.expect_no_tx();
}

TEST_CASE("ESTABLISHED: bytes beyond the advertised window are cut off (RFC 9293 3.10.7.4)",
          "[tcp][rfc9293]") {
    tcp::TcpConfig c = TcpFixture::quiet_config();
    c.recv_buffer_bytes = 1000;
    TcpFixture t(c);
    t.make_established();
    t.send({.seq = remote_iss + 1, .ack = local_iss + 1, .flags = flag::ack, .window = 64240},
           std::string(1500, 'o'));
    REQUIRE(t.app_read().size() == 1000);
}

TEST_CASE("keepalive: probes after the idle time, then gives up (RFC 9293 3.8.4)", "[tcp][rfc9293]") {
    tcp::TcpConfig c = TcpFixture::quiet_config();
    c.keepalive.enabled = true;
    c.keepalive.idle = Duration::from_s(60);
    c.keepalive.interval = Duration::from_s(10);
    c.keepalive.probes = 3;
    TcpFixture t(c);
    t.make_established();
    t.advance(Duration::from_s(60));
    const Sent probe = t.expect_tx();
    REQUIRE(probe.hdr.seq == local_iss); // SND.NXT - 1
    REQUIRE(probe.payload.empty());
    t.advance(Duration::from_s(10));
    (void)t.expect_tx();
    t.advance(Duration::from_s(10));
    (void)t.expect_tx();
    t.advance(Duration::from_s(10));
    REQUIRE(t.tcb.state == TcpState::closed);
    REQUIRE(t.tcb.close_reason == tcp::CloseReason::timed_out);
}

TEST_CASE("keepalive: an answer to the probe keeps the connection", "[tcp][rfc9293]") {
    tcp::TcpConfig c = TcpFixture::quiet_config();
    c.keepalive.enabled = true;
    c.keepalive.idle = Duration::from_s(60);
    c.keepalive.interval = Duration::from_s(10);
    c.keepalive.probes = 2;
    TcpFixture t(c);
    t.make_established();
    t.advance(Duration::from_s(60));
    (void)t.expect_tx();
    t.send({.seq = remote_iss + 1, .ack = local_iss + 1, .flags = flag::ack, .window = 64240});
    t.advance(Duration::from_s(30));
    REQUIRE(t.tcb.state == TcpState::established);
}

TEST_CASE("send: refused after the write side is shut down, and before a connection exists",
          "[tcp]") {
    TcpFixture t;
    wire::MbufPtr early = mbuf_from(std::vector<std::uint8_t>(3, 1));
    auto e = t.env();
    REQUIRE(tcp::send(t.tcb, early, e).error() == tcp::SendCallError::not_connected);
    REQUIRE(early); // still the caller's
    t.make_established();
    auto e2 = t.env();
    tcp::shutdown_write(t.tcb, e2);
    wire::MbufPtr late = mbuf_from(std::vector<std::uint8_t>(3, 1));
    REQUIRE(tcp::send(t.tcb, late, e2).error() == tcp::SendCallError::write_closed);
    REQUIRE(late);
}

TEST_CASE("send: a full send buffer is back-pressure; the ACK that frees it raises writable",
          "[tcp][buffers]") {
    tcp::TcpConfig c = TcpFixture::quiet_config();
    c.send_buffer_bytes = 2000;
    TcpFixture t(c);
    t.make_established();
    t.app_send(std::string(2000, 'f'));
    wire::MbufPtr more = mbuf_from(std::vector<std::uint8_t>(10, 2));
    auto e = t.env();
    REQUIRE(tcp::send(t.tcb, more, e).error() == tcp::SendCallError::no_room);
    REQUIRE(more);
    (void)t.expect_tx();
    (void)t.expect_tx();
    t.send({.seq = remote_iss + 1, .ack = local_iss + 1461, .flags = flag::ack, .window = 64240});
    REQUIRE(t.saw_event(ConnEvent::writable));
}

TEST_CASE("SYN-SENT: abort sends nothing and closes (RFC 9293 3.10.5)", "[tcp][rfc9293]") {
    TcpFixture t;
    auto e = t.env();
    REQUIRE(tcp::open_active(t.tcb, local_iss, e));
    (void)t.expect_tx();
    tcp::abort(t.tcb, e);
    t.expect_no_tx();
    REQUIRE(t.tcb.state == TcpState::closed);
}

TEST_CASE("every test's mbufs and timers come back", "[tcp]") {
    const unsigned before = rte_mempool_in_use_count(pool());
    {
        TcpFixture t;
        t.make_established();
        t.app_send(std::string(5000, 'm'));
        t.send({.seq = remote_iss + 100, .ack = local_iss + 1, .flags = flag::ack, .window = 64240},
               "out of order");
        auto e = t.env();
        tcp::abort(t.tcb, e);
        tcp::release_resources(t.tcb, e);
        while (!t.out.empty()) {
            (void)t.out.pop();
        }
        REQUIRE(t.wheel.empty());
    }
    REQUIRE(rte_mempool_in_use_count(pool()) == before);
}
