#include <synack/wire/ethernet.hpp>
#include <synack/wire/ipv6.hpp>

#include "unit/test_support.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace synack::wire;
using synack::test::golden;

namespace {

std::vector<std::uint8_t> ip_bytes(const char* name) {
    const auto frame = golden(name);
    auto eth = parse_ethernet(frame);
    REQUIRE(eth.ok());
    REQUIRE(eth->ethertype == ethertype::ipv6);
    return {eth->payload.begin(), eth->payload.end()};
}

// A fixed header with payload length and next header set, then the payload.
std::vector<std::uint8_t> packet(std::uint8_t next_header, std::vector<std::uint8_t> payload) {
    Ipv6Repr repr;
    repr.next_header = next_header;
    repr.payload_len = static_cast<std::uint16_t>(payload.size());
    std::vector<std::uint8_t> p(ipv6_header_len);
    repr.emit(p);
    p.insert(p.end(), payload.begin(), payload.end());
    return p;
}

// A generic extension header of 8 bytes: next header, length 0, padding.
std::vector<std::uint8_t> ext8(std::uint8_t next) { return {next, 0, 1, 4, 0, 0, 0, 0}; }

WireError error_of(const std::vector<std::uint8_t>& p) {
    auto r = parse_ipv6(p);
    REQUIRE_FALSE(r.ok());
    return r.error();
}

} // namespace

TEST_CASE("ipv6: Linux SYN fixed header", "[wire][ipv6][golden]") {
    const auto p = ip_bytes("tcp6_syn");
    auto ip = parse_ipv6(p);
    REQUIRE(ip.ok());
    REQUIRE(ip->payload_len() == 40);
    REQUIRE(ip->next_header() == ip_proto::tcp);
    REQUIRE(ip->upper_protocol == ip_proto::tcp);
    REQUIRE(ip->extension_count == 0);
    REQUIRE(ip->hop_limit() == 64);
    REQUIRE(ip->flow_label() == 0x2aee0);
    REQUIRE(ip->traffic_class() == 0);
    REQUIRE(ip->src().bytes[0] == 0xfd);
    REQUIRE(ip->src().bytes[15] == 1);
    REQUIRE(ip->dst().bytes[15] == 2);
    REQUIRE(ip->upper.size() == 40);
    REQUIRE_FALSE(ip->is_fragment);
}

TEST_CASE("ipv6: Hop-by-Hop Options header is walked (MLDv2 report)", "[wire][ipv6][golden][rfc8200]") {
    const auto p = ip_bytes("ipv6_hopbyhop");
    auto ip = parse_ipv6(p);
    REQUIRE(ip.ok());
    REQUIRE(ip->next_header() == ip_proto::hop_by_hop);
    REQUIRE(ip->extension_count == 1);
    REQUIRE(ip->upper_protocol == ip_proto::icmpv6);
    REQUIRE(ip->upper.size() == 28);
    REQUIRE(ip->upper[0] == 143); // MLDv2 listener report
}

TEST_CASE("ipv6: Fragment header is recognised (RFC 8200 section 4.5)", "[wire][ipv6][golden][rfc8200]") {
    const auto p = ip_bytes("ipv6_frag_first");
    auto ip = parse_ipv6(p);
    REQUIRE(ip.ok());
    REQUIRE(ip->is_fragment);
    REQUIRE(ip->more_fragments);
    REQUIRE(ip->fragment_offset == 0);
    REQUIRE(ip->fragment_id == 0x69eeff58);
    REQUIRE(ip->upper_protocol == ip_proto::icmpv6);
    REQUIRE(ip->upper.size() == 1448);
}

TEST_CASE("ipv6: a non-first fragment stops the walk: the rest is fragment data",
          "[wire][ipv6][rfc8200]") {
    // Fragment header: next header TCP, offset 185 * 8 = 1480, M clear; then data that is no header.
    auto p = packet(ip_proto::ipv6_fragment, {ip_proto::tcp, 0, 0x05, 0xc8, 0, 0, 0, 9, 0xaa, 0xbb});
    auto ip = parse_ipv6(p);
    REQUIRE(ip.ok());
    REQUIRE(ip->is_fragment);
    REQUIRE(ip->fragment_offset == 1480);
    REQUIRE_FALSE(ip->more_fragments);
    REQUIRE(ip->upper.size() == 2);
}

TEST_CASE("ipv6: routing, destination options and AH headers are skipped by their length",
          "[wire][ipv6][rfc8200]") {
    std::vector<std::uint8_t> payload = ext8(ip_proto::ipv6_routing);
    auto routing = ext8(ip_proto::ah);
    payload.insert(payload.end(), routing.begin(), routing.end());
    // AH: length 4 means (4 + 2) * 4 = 24 bytes (RFC 4302 section 2.2).
    std::vector<std::uint8_t> ah(24, 0);
    ah[0] = ip_proto::tcp;
    ah[1] = 4;
    payload.insert(payload.end(), ah.begin(), ah.end());
    payload.resize(payload.size() + 20, 0x11);
    auto p = packet(ip_proto::ipv6_dest_opts, payload);
    auto ip = parse_ipv6(p);
    REQUIRE(ip.ok());
    REQUIRE(ip->extension_count == 3);
    REQUIRE(ip->upper_protocol == ip_proto::tcp);
    REQUIRE(ip->upper.size() == 20);
}

TEST_CASE("ipv6: No Next Header leaves no upper-layer bytes", "[wire][ipv6][rfc8200]") {
    auto p = packet(ip_proto::ipv6_none, {1, 2, 3});
    auto ip = parse_ipv6(p);
    REQUIRE(ip.ok());
    REQUIRE(ip->upper_protocol == ip_proto::ipv6_none);
    REQUIRE(ip->upper.empty());
}

TEST_CASE("ipv6: malformed: shorter than 40 bytes is truncated", "[wire][ipv6][malformed]") {
    const auto p = ip_bytes("tcp6_syn");
    for (std::size_t len = 0; len < 40; ++len) {
        REQUIRE(error_of({p.begin(), p.begin() + static_cast<long>(len)}) == WireError::truncated);
    }
}

TEST_CASE("ipv6: malformed: version other than 6", "[wire][ipv6][malformed]") {
    auto p = ip_bytes("tcp6_syn");
    p[0] = 0x40;
    REQUIRE(error_of(p) == WireError::bad_version);
}

TEST_CASE("ipv6: malformed: payload length past the buffer", "[wire][ipv6][malformed]") {
    auto p = ip_bytes("tcp6_syn");
    p.pop_back();
    REQUIRE(error_of(p) == WireError::total_length_past_buffer);
}

TEST_CASE("ipv6: malformed: an extension header past the packet", "[wire][ipv6][malformed]") {
    // Too short for even the 8-byte minimum.
    REQUIRE(error_of(packet(ip_proto::ipv6_dest_opts, {ip_proto::tcp, 0, 0, 0})) ==
            WireError::extension_header_past_packet);
    // Length 1 announces 16 bytes, 8 present.
    auto hdr = ext8(ip_proto::tcp);
    hdr[1] = 1;
    REQUIRE(error_of(packet(ip_proto::ipv6_routing, hdr)) == WireError::extension_header_past_packet);
}

TEST_CASE("ipv6: malformed: too many extension headers", "[wire][ipv6][malformed]") {
    std::vector<std::uint8_t> payload;
    for (std::size_t i = 0; i < ipv6_max_extension_headers + 1; ++i) {
        auto h = ext8(i == ipv6_max_extension_headers ? ip_proto::tcp : ip_proto::ipv6_dest_opts);
        payload.insert(payload.end(), h.begin(), h.end());
    }
    REQUIRE(error_of(packet(ip_proto::ipv6_dest_opts, payload)) ==
            WireError::too_many_extension_headers);
}

TEST_CASE("ipv6: malformed: Hop-by-Hop not first (RFC 8200 section 4.1)", "[wire][ipv6][malformed]") {
    auto payload = ext8(ip_proto::hop_by_hop);
    auto hbh = ext8(ip_proto::tcp);
    payload.insert(payload.end(), hbh.begin(), hbh.end());
    REQUIRE(error_of(packet(ip_proto::ipv6_dest_opts, payload)) == WireError::misplaced_hop_by_hop);
}

TEST_CASE("ipv6: emit reproduces Linux's fixed header byte for byte", "[wire][ipv6][golden]") {
    const auto p = ip_bytes("tcp6_data");
    auto ip = parse_ipv6(p);
    REQUIRE(ip.ok());
    Ipv6Repr repr{ip->src(), ip->dst(), ip->next_header(), ip->hop_limit(), ip->traffic_class(),
                  ip->flow_label(), ip->payload_len()};
    std::vector<std::uint8_t> out(ipv6_header_len);
    repr.emit(out);
    REQUIRE(out == std::vector<std::uint8_t>(p.begin(), p.begin() + 40));
}
