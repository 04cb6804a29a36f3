// TCP header and options: known answers from Linux captures, a parse/emit
// round trip for every option kind, and one malformed case per error code.

#include <synack/wire/ethernet.hpp>
#include <synack/wire/ipv4.hpp>
#include <synack/wire/ipv6.hpp>
#include <synack/wire/tcp.hpp>

#include "unit/test_support.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace synack::wire;
using synack::test::golden;

namespace {

// The TCP segment inside a golden IPv4 frame, checksum verified. Views of it
// (TcpSegment) point into `frame`: keep the Tcp4 alive while using them.
struct Tcp4 {
    std::vector<std::uint8_t> frame;
    Bytes segment;
    std::uint16_t pseudo = 0;
};

Tcp4 tcp4(const char* name) {
    Tcp4 t{golden(name), {}, 0};
    auto eth = parse_ethernet(t.frame);
    REQUIRE(eth.ok());
    auto ip = parse_ipv4(eth->payload, ChecksumCheck::verify());
    REQUIRE(ip.ok());
    REQUIRE(ip->protocol() == ip_proto::tcp);
    t.segment = ip->payload();
    t.pseudo = ip->pseudo_sum();
    return t;
}

TcpSegment parse_ok(const Tcp4& t) {
    auto seg = parse_tcp(t.segment, ChecksumCheck::verify(t.pseudo));
    REQUIRE(seg.ok());
    return *seg;
}

// A 20-byte header followed by the given option bytes, data offset set to fit.
std::vector<std::uint8_t> with_options(std::vector<std::uint8_t> options) {
    std::vector<std::uint8_t> seg(20, 0);
    while (options.size() % 4 != 0) {
        options.push_back(tcp_option::eol);
    }
    seg.insert(seg.end(), options.begin(), options.end());
    seg[12] = static_cast<std::uint8_t>((seg.size() / 4) << 4);
    return seg;
}

WireError parse_error(const std::vector<std::uint8_t>& seg) {
    auto r = parse_tcp(seg, ChecksumCheck::known_good());
    REQUIRE_FALSE(r.ok());
    return r.error();
}

TcpRepr repr_of(const TcpSegment& s) {
    return {s.src_port(), s.dst_port(), s.seq(), s.ack(), s.flags(), s.window(),
            s.urgent_pointer(), s.options()};
}

} // namespace

TEST_CASE("tcp: Linux SYN parses with its default options", "[wire][tcp][golden]") {
    const auto seg_frame = tcp4("tcp4_syn");
    const auto seg = parse_ok(seg_frame);
    REQUIRE(seg.src_port() == 40001);
    REQUIRE(seg.dst_port() == 5001);
    REQUIRE(seg.seq() == Seq32(957602730));
    REQUIRE(seg.ack() == Seq32(0));
    REQUIRE(seg.flags() == tcp_flag::syn);
    REQUIRE(seg.window() == 64240);
    REQUIRE(seg.checksum() == 0x56b3);
    REQUIRE(seg.header_len() == 40);
    REQUIRE(seg.payload().empty());
    REQUIRE(seg.seg_len() == 1); // RFC 9293 section 3.4: SYN occupies one sequence number
    const TcpOptions& o = seg.options();
    REQUIRE(o.mss == std::uint16_t{1460});
    REQUIRE(o.sack_permitted);
    REQUIRE(o.timestamps == Timestamps{2736945681u, 0});
    REQUIRE(o.window_scale == std::uint8_t{10});
    REQUIRE(o.sack_count == 0);
}

TEST_CASE("tcp: Linux SYN-ACK, ACK, data, FIN and RSTs parse with their fields",
          "[wire][tcp][golden]") {
    const auto synack_frame = tcp4("tcp4_synack");
    const auto synack = parse_ok(synack_frame);
    REQUIRE(synack.flags() == (tcp_flag::syn | tcp_flag::ack));
    REQUIRE(synack.seq() == Seq32(4273939764u));
    REQUIRE(synack.ack() == Seq32(957602731));
    REQUIRE(synack.options().timestamps == Timestamps{809690018, 2736945681u});

    const auto ack_frame = tcp4("tcp4_ack");
    const auto ack = parse_ok(ack_frame);
    REQUIRE(ack.flags() == tcp_flag::ack);
    REQUIRE(ack.window() == 63);
    REQUIRE(ack.header_len() == 32);
    REQUIRE_FALSE(ack.options().mss.has_value());
    REQUIRE(ack.seg_len() == 0);

    const auto data_frame = tcp4("tcp4_data");
    const auto data = parse_ok(data_frame);
    REQUIRE(data.flags() == (tcp_flag::psh | tcp_flag::ack));
    const std::string payload(data.payload().begin(), data.payload().end());
    REQUIRE(payload == "hello synack\n");
    REQUIRE(data.seg_len() == 13);

    const auto fin_frame = tcp4("tcp4_fin");
    const auto fin = parse_ok(fin_frame);
    REQUIRE(fin.flags() == (tcp_flag::fin | tcp_flag::ack));
    REQUIRE(fin.seq() == Seq32(957602744)); // after the 13 data bytes
    REQUIRE(fin.seg_len() == 1);

    const auto rst_frame = tcp4("tcp4_rst_closed_port");
    const auto rst = parse_ok(rst_frame);
    REQUIRE(rst.flags() == (tcp_flag::rst | tcp_flag::ack));
    REQUIRE(rst.seq() == Seq32(0));
    REQUIRE(rst.ack() == Seq32(1081136600)); // the SYN's seq + 1 (RFC 9293 section 3.10.7.1)
    REQUIRE(rst.header_len() == 20);

    const auto abort_frame = tcp4("tcp4_rst_abort");
    const auto abort = parse_ok(abort_frame);
    REQUIRE(abort.has(tcp_flag::rst));
    REQUIRE(abort.seq() == Seq32(3905938372u));
}

TEST_CASE("tcp: Linux ACK with SACK blocks (RFC 2018 section 3)", "[wire][tcp][golden][rfc2018]") {
    const auto seg_frame = tcp4("tcp4_sack");
    const auto seg = parse_ok(seg_frame);
    REQUIRE(seg.ack() == Seq32(1443628503));
    REQUIRE(seg.header_len() == 44);
    const TcpOptions& o = seg.options();
    REQUIRE(o.timestamps == Timestamps{3069056065u, 444822996});
    REQUIRE(o.sack_count == 1);
    REQUIRE(o.sack[0] == SackBlock{Seq32(1443629951), Seq32(1443631399)});
}

TEST_CASE("tcp: Linux segments over IPv6 verify with the IPv6 pseudo-header",
          "[wire][tcp][golden][rfc8200]") {
    for (const char* name : {"tcp6_syn", "tcp6_synack", "tcp6_data"}) {
        INFO(name);
        const auto frame = golden(name);
        auto eth = parse_ethernet(frame);
        REQUIRE(eth.ok());
        auto ip = parse_ipv6(eth->payload);
        REQUIRE(ip.ok());
        REQUIRE(ip->upper_protocol == ip_proto::tcp);
        auto seg = parse_tcp(ip->upper, ChecksumCheck::verify(ip->pseudo_sum()));
        REQUIRE(seg.ok());
        if (seg->has(tcp_flag::syn)) {
            REQUIRE(seg->options().mss == std::uint16_t{1440});
        }
    }
}

TEST_CASE("tcp: emit reproduces Linux's headers byte for byte", "[wire][tcp][golden]") {
    for (const char* name : {"tcp4_syn", "tcp4_synack", "tcp4_ack", "tcp4_data", "tcp4_fin",
                             "tcp4_rst_closed_port", "tcp4_rst_abort", "tcp4_sack"}) {
        INFO(name);
        const auto t = tcp4(name);
        const auto seg = parse_ok(t);
        const TcpRepr repr = repr_of(seg);
        REQUIRE(repr.header_len() == seg.header_len());
        std::vector<std::uint8_t> out(repr.header_len());
        repr.emit(out);
        std::vector<std::uint8_t> expected(seg.header().begin(), seg.header().end());
        expected[16] = expected[17] = 0; // emit leaves the checksum to finalize_checksums
        REQUIRE(out == expected);
    }
}

TEST_CASE("tcp: every option kind round-trips through emit and parse",
          "[wire][tcp][rfc9293][rfc7323][rfc2018]") {
    std::vector<TcpOptions> cases;
    TcpOptions o;
    o.mss = 536;
    cases.push_back(o);
    o = {};
    o.window_scale = 14;
    cases.push_back(o);
    o = {};
    o.sack_permitted = true;
    cases.push_back(o);
    o = {};
    o.timestamps = Timestamps{0xdeadbeef, 0x01020304};
    cases.push_back(o);
    for (std::uint8_t n = 1; n <= tcp_max_sack_blocks; ++n) {
        o = {};
        o.sack_count = n;
        for (std::uint8_t i = 0; i < n; ++i) {
            o.sack[i] = {Seq32(1000u * i), Seq32(1000u * i + 500)};
        }
        cases.push_back(o);
    }
    o = {};
    o.mss = 9000;
    o.sack_permitted = true;
    o.window_scale = 7;
    cases.push_back(o);
    o = {};
    o.mss = 1460;
    o.sack_permitted = true;
    o.timestamps = Timestamps{1, 2};
    o.window_scale = 0;
    cases.push_back(o);
    o = {};
    o.timestamps = Timestamps{3, 4};
    o.sack_count = 3;
    o.sack[0] = {Seq32(0xfffffff0), Seq32(0x10)};
    o.sack[1] = {Seq32(100), Seq32(200)};
    o.sack[2] = {Seq32(300), Seq32(400)};
    cases.push_back(o);
    cases.push_back(TcpOptions{}); // no options at all

    for (std::size_t i = 0; i < cases.size(); ++i) {
        INFO("case " << i);
        TcpRepr repr;
        repr.src_port = 1;
        repr.dst_port = 2;
        repr.flags = tcp_flag::ack;
        repr.options = cases[i];
        std::vector<std::uint8_t> buf(repr.header_len());
        REQUIRE(buf.size() % 4 == 0);
        REQUIRE(buf.size() <= tcp_min_header_len + tcp_max_options_len);
        repr.emit(buf);
        auto seg = parse_tcp(buf, ChecksumCheck::known_good());
        REQUIRE(seg.ok());
        REQUIRE(seg->options() == cases[i]);
        REQUIRE(seg->header_len() == buf.size());
    }
}

TEST_CASE("tcp: SACK blocks beyond the 40 option bytes are left out, never overflow",
          "[wire][tcp][rfc2018]") {
    TcpOptions o;
    o.timestamps = Timestamps{1, 2};
    o.sack_count = 4;
    REQUIRE(o.sack_blocks_that_fit() == 3); // RFC 2018 section 3: 3 blocks beside timestamps
    REQUIRE(o.encoded_len() == 40);
    o.mss = 1460;
    o.window_scale = 2;
    o.sack_permitted = true;
    REQUIRE(o.sack_blocks_that_fit() == 2);
    REQUIRE(o.encoded_len() <= tcp_max_options_len);
}

TEST_CASE("tcp: options after EOL are padding and are ignored (RFC 9293 section 3.2)",
          "[wire][tcp][rfc9293]") {
    // EOL, then bytes that would be a bad option if read.
    auto r = parse_tcp(with_options({tcp_option::nop, tcp_option::eol, 2, 0, 0xff, 0xff}),
                       ChecksumCheck::known_good());
    REQUIRE(r.ok());
    REQUIRE(r->options() == TcpOptions{});
}

TEST_CASE("tcp: unknown option kinds are skipped by their length (MUST-6)", "[wire][tcp][rfc9293]") {
    // kind 34 (TCP Fast Open cookie, 10 bytes), kind 30 (MPTCP, 4 bytes), then MSS.
    auto r = parse_tcp(with_options({34, 10, 1, 2, 3, 4, 5, 6, 7, 8, 30, 4, 0, 0, 2, 4, 0x05, 0xb4}),
                       ChecksumCheck::known_good());
    REQUIRE(r.ok());
    REQUIRE(r->options().mss == std::uint16_t{1460});
}

TEST_CASE("tcp: malformed: shorter than 20 bytes is truncated", "[wire][tcp][malformed]") {
    const auto t = tcp4("tcp4_syn");
    for (std::size_t len = 0; len < tcp_min_header_len; ++len) {
        auto r = parse_tcp(t.segment.first(len), ChecksumCheck::known_good());
        REQUIRE(r.error() == WireError::truncated);
    }
}

TEST_CASE("tcp: malformed: data offset below 5 words or past the segment",
          "[wire][tcp][malformed]") {
    auto seg = with_options({});
    seg[12] = 4 << 4;
    REQUIRE(parse_error(seg) == WireError::data_offset_out_of_range);
    seg[12] = 6 << 4; // 24 bytes announced, 20 present
    REQUIRE(parse_error(seg) == WireError::data_offset_out_of_range);
    // A captured SYN cut inside its options.
    const auto t = tcp4("tcp4_syn");
    auto r = parse_tcp(t.segment.first(39), ChecksumCheck::known_good());
    REQUIRE(r.error() == WireError::data_offset_out_of_range);
}

TEST_CASE("tcp: malformed: an option running past the header", "[wire][tcp][malformed]") {
    // The length byte itself is missing: kind MSS in the last option byte.
    REQUIRE(parse_error(with_options({1, 1, 1, tcp_option::mss})) ==
            WireError::option_length_past_header);
    // Timestamps claiming 10 bytes with 6 left.
    REQUIRE(parse_error(with_options({1, 1, tcp_option::timestamps, 10, 0, 0, 0, 0})) ==
            WireError::option_length_past_header);
    // An unknown kind whose length runs past the end.
    REQUIRE(parse_error(with_options({99, 40, 0, 0})) == WireError::option_length_past_header);
}

TEST_CASE("tcp: malformed: an option length below 2 or wrong for its kind",
          "[wire][tcp][malformed]") {
    REQUIRE(parse_error(with_options({99, 0, 0, 0})) == WireError::bad_option_length);
    REQUIRE(parse_error(with_options({99, 1, 0, 0})) == WireError::bad_option_length);
    REQUIRE(parse_error(with_options({tcp_option::mss, 5, 0, 0, 0, 0, 0, 0})) ==
            WireError::bad_option_length);
    REQUIRE(parse_error(with_options({tcp_option::window_scale, 4, 7, 0})) ==
            WireError::bad_option_length);
    REQUIRE(parse_error(with_options({tcp_option::sack_permitted, 3, 0, 0})) ==
            WireError::bad_option_length);
    REQUIRE(parse_error(with_options({tcp_option::timestamps, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})) ==
            WireError::bad_option_length);
    REQUIRE(parse_error(with_options({tcp_option::sack, 2, 0, 0})) == WireError::bad_option_length);
    REQUIRE(parse_error(with_options({tcp_option::sack, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})) ==
            WireError::bad_option_length);
}

TEST_CASE("tcp: malformed: a flipped bit fails the checksum", "[wire][tcp][malformed]") {
    const auto t = tcp4("tcp4_data");
    std::vector<std::uint8_t> seg(t.segment.begin(), t.segment.end());
    seg.back() ^= 0x20; // 'hello synack\n' -> '*'
    auto r = parse_tcp(seg, ChecksumCheck::verify(t.pseudo));
    REQUIRE(r.error() == WireError::bad_checksum);
    // The wrong pseudo-header (another destination) fails too.
    auto wrong = parse_tcp(t.segment, ChecksumCheck::verify(static_cast<std::uint16_t>(t.pseudo + 1)));
    REQUIRE(wrong.error() == WireError::bad_checksum);
}

TEST_CASE("tcp: the NIC's verdict replaces software verification", "[wire][tcp]") {
    const auto t = tcp4("tcp4_data");
    std::vector<std::uint8_t> seg(t.segment.begin(), t.segment.end());
    seg.back() ^= 0x20;
    REQUIRE(parse_tcp(seg, ChecksumCheck::known_good()).ok());
    REQUIRE(parse_tcp(t.segment, ChecksumCheck::known_bad()).error() == WireError::bad_checksum);
}

TEST_CASE("tcp: malformed: a SACK option of more than 4 blocks in an oversized options area",
          "[wire][tcp][malformed]") {
    // Found by fuzz-tcp: parse_tcp_options on its own accepts any area size,
    // and a 5-block SACK would overrun TcpOptions::sack.
    std::vector<std::uint8_t> area = {tcp_option::sack, 42};
    area.resize(42, 0);
    REQUIRE(parse_tcp_options(area).error() == WireError::bad_option_length);
}
