#include <synack/wire/ethernet.hpp>
#include <synack/wire/ipv4.hpp>

#include "unit/test_support.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace synack::wire;
using synack::test::golden;

namespace {

// The IPv4 packet bytes of a golden frame.
std::vector<std::uint8_t> ip_bytes(const char* name) {
    const auto frame = golden(name);
    auto eth = parse_ethernet(frame);
    REQUIRE(eth.ok());
    REQUIRE(eth->ethertype == ethertype::ipv4);
    return {eth->payload.begin(), eth->payload.end()};
}

WireError error_of(const std::vector<std::uint8_t>& p) {
    auto r = parse_ipv4(p, ChecksumCheck::verify());
    REQUIRE_FALSE(r.ok());
    return r.error();
}

// Rewrites the header checksum after a deliberate change to another field.
void fix_checksum(std::vector<std::uint8_t>& p) {
    const std::size_t ihl = (p[0] & 0x0fu) * 4u;
    store_be16(p.data() + 10, 0);
    store_be16(p.data() + 10, checksum(Bytes(p).first(std::min(ihl, p.size()))));
}

} // namespace

TEST_CASE("ipv4: Linux SYN header fields and checksum", "[wire][ipv4][golden]") {
    const auto p = ip_bytes("tcp4_syn");
    auto ip = parse_ipv4(p, ChecksumCheck::verify());
    REQUIRE(ip.ok());
    REQUIRE(ip->header_len() == 20);
    REQUIRE(ip->total_len() == 60);
    REQUIRE(ip->id() == 0xa628);
    REQUIRE(ip->dont_fragment());
    REQUIRE_FALSE(ip->is_fragment());
    REQUIRE(ip->ttl() == 64);
    REQUIRE(ip->protocol() == ip_proto::tcp);
    REQUIRE(ip->checksum() == 0x7ff7);
    REQUIRE(ip->src() == Ipv4Addr::from_octets(10, 77, 0, 1));
    REQUIRE(ip->dst() == Ipv4Addr::from_octets(10, 77, 0, 2));
    REQUIRE(ip->options().empty());
    REQUIRE(ip->payload().size() == 40);
}

TEST_CASE("ipv4: options are skipped by IHL (ping -R record route)", "[wire][ipv4][golden]") {
    const auto p = ip_bytes("ipv4_options");
    auto ip = parse_ipv4(p, ChecksumCheck::verify());
    REQUIRE(ip.ok());
    REQUIRE(ip->header_len() == 60);
    REQUIRE(ip->options().size() == 40);
    REQUIRE(ip->options()[1] == 7); // NOP, then Record Route (type 7)
    REQUIRE(ip->protocol() == ip_proto::icmp);
    REQUIRE(ip->payload().size() == 64);
    REQUIRE(ip->payload()[0] == 8); // the ICMP echo request starts right after the options
}

TEST_CASE("ipv4: first and last fragments are recognised", "[wire][ipv4][golden]") {
    const auto first_bytes = ip_bytes("ipv4_frag_first");
    auto first = parse_ipv4(first_bytes, ChecksumCheck::verify());
    REQUIRE(first.ok());
    REQUIRE(first->is_fragment());
    REQUIRE(first->more_fragments());
    REQUIRE(first->fragment_offset() == 0);

    const auto last_bytes = ip_bytes("ipv4_frag_last");
    auto last = parse_ipv4(last_bytes, ChecksumCheck::verify());
    REQUIRE(last.ok());
    REQUIRE(last->is_fragment());
    REQUIRE_FALSE(last->more_fragments());
    REQUIRE(last->fragment_offset() == 2960);
    REQUIRE(last->id() == first->id());
}

TEST_CASE("ipv4: Ethernet padding past the total length is not payload", "[wire][ipv4]") {
    auto p = ip_bytes("tcp4_rst_closed_port"); // 40 bytes: a 54-byte frame padded to 60 on a wire
    p.resize(p.size() + 6, 0);
    auto ip = parse_ipv4(p, ChecksumCheck::verify());
    REQUIRE(ip.ok());
    REQUIRE(ip->payload().size() == 20);
}

TEST_CASE("ipv4: malformed: shorter than 20 bytes is truncated", "[wire][ipv4][malformed]") {
    const auto p = ip_bytes("tcp4_syn");
    for (std::size_t len = 0; len < 20; ++len) {
        REQUIRE(error_of({p.begin(), p.begin() + static_cast<long>(len)}) == WireError::truncated);
    }
}

TEST_CASE("ipv4: malformed: version other than 4", "[wire][ipv4][malformed]") {
    auto p = ip_bytes("tcp4_syn");
    p[0] = 0x65;
    REQUIRE(error_of(p) == WireError::bad_version);
}

TEST_CASE("ipv4: malformed: IHL below 5 or past the buffer", "[wire][ipv4][malformed]") {
    auto p = ip_bytes("tcp4_syn");
    p[0] = 0x44;
    REQUIRE(error_of(p) == WireError::bad_header_length);
    auto q = ip_bytes("tcp4_syn");
    q.resize(24); // IHL 15 announces 60 bytes
    q[0] = 0x4f;
    REQUIRE(error_of(q) == WireError::bad_header_length);
}

TEST_CASE("ipv4: malformed: total length smaller than the header", "[wire][ipv4][malformed]") {
    auto p = ip_bytes("tcp4_syn");
    store_be16(p.data() + 2, 19);
    fix_checksum(p);
    REQUIRE(error_of(p) == WireError::bad_total_length);
}

TEST_CASE("ipv4: malformed: total length past the buffer", "[wire][ipv4][malformed]") {
    auto p = ip_bytes("tcp4_syn");
    p.pop_back();
    REQUIRE(error_of(p) == WireError::total_length_past_buffer);
}

TEST_CASE("ipv4: malformed: header checksum", "[wire][ipv4][malformed]") {
    auto p = ip_bytes("tcp4_syn");
    p[8] = 63; // TTL changed without fixing the checksum
    REQUIRE(error_of(p) == WireError::bad_checksum);
    REQUIRE(parse_ipv4(p, ChecksumCheck::known_good()).ok()); // the NIC said good
    const auto q = ip_bytes("tcp4_syn");
    REQUIRE(parse_ipv4(q, ChecksumCheck::known_bad()).error() == WireError::bad_checksum);
}

TEST_CASE("ipv4: emit reproduces Linux's header byte for byte", "[wire][ipv4][golden]") {
    for (const char* name : {"tcp4_syn", "tcp4_synack", "tcp4_data"}) {
        INFO(name);
        const auto p = ip_bytes(name);
        auto ip = parse_ipv4(p, ChecksumCheck::verify());
        REQUIRE(ip.ok());
        Ipv4Repr repr{ip->src(), ip->dst(), ip->protocol(), ip->ttl(), ip->dscp_ecn(),
                      ip->id(), ip->dont_fragment(),
                      static_cast<std::uint16_t>(ip->payload().size())};
        std::vector<std::uint8_t> out(20);
        repr.emit(out, true);
        REQUIRE(out == std::vector<std::uint8_t>(p.begin(), p.begin() + 20));
    }
}
