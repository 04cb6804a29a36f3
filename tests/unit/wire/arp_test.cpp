#include <synack/wire/arp.hpp>
#include <synack/wire/ethernet.hpp>

#include "unit/test_support.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace synack::wire;
using synack::test::golden;

namespace {

const MacAddr mac_1{{0x02, 0x77, 0, 0, 0, 1}};
const MacAddr mac_2{{0x02, 0x77, 0, 0, 0, 2}};
const Ipv4Addr ip_1 = Ipv4Addr::from_octets(10, 77, 0, 1);
const Ipv4Addr ip_2 = Ipv4Addr::from_octets(10, 77, 0, 2);

std::vector<std::uint8_t> arp_bytes(const char* name) {
    const auto frame = golden(name);
    auto eth = parse_ethernet(frame);
    REQUIRE(eth.ok());
    REQUIRE(eth->ethertype == ethertype::arp);
    return {eth->payload.begin(), eth->payload.end()};
}

} // namespace

TEST_CASE("arp: Linux request and reply (RFC 826)", "[wire][arp][golden]") {
    const auto req_bytes = arp_bytes("arp_request");
    auto req = parse_arp(req_bytes);
    REQUIRE(req.ok());
    REQUIRE(req->is_request());
    REQUIRE(req->sender_mac == mac_1);
    REQUIRE(req->sender_ip == ip_1);
    REQUIRE(req->target_mac == MacAddr{});
    REQUIRE(req->target_ip == ip_2);

    const auto rep_bytes = arp_bytes("arp_reply");
    auto rep = parse_arp(rep_bytes);
    REQUIRE(rep.ok());
    REQUIRE(rep->is_reply());
    REQUIRE(rep->sender_mac == mac_2);
    REQUIRE(rep->sender_ip == ip_2);
    REQUIRE(rep->target_mac == mac_1);
    REQUIRE(rep->target_ip == ip_1);
}

TEST_CASE("arp: our reply to Linux's request equals Linux's reply", "[wire][arp][golden]") {
    const auto req_bytes = arp_bytes("arp_request");
    auto req = parse_arp(req_bytes);
    REQUIRE(req.ok());
    const ArpRepr reply{static_cast<std::uint16_t>(ArpOp::reply), mac_2, req->target_ip,
                        req->sender_mac, req->sender_ip};
    std::vector<std::uint8_t> out(arp_len);
    reply.emit(out);
    REQUIRE(out == arp_bytes("arp_reply"));
}

TEST_CASE("arp: padding after the 28 bytes is ignored", "[wire][arp]") {
    auto bytes = arp_bytes("arp_reply");
    bytes.resize(46, 0); // padded to the 60-byte Ethernet minimum
    REQUIRE(parse_arp(bytes).ok());
}

TEST_CASE("arp: malformed: shorter than 28 bytes is truncated", "[wire][arp][malformed]") {
    const auto bytes = arp_bytes("arp_request");
    for (std::size_t len = 0; len < arp_len; ++len) {
        REQUIRE(parse_arp(Bytes(bytes).first(len)).error() == WireError::truncated);
    }
}

TEST_CASE("arp: other hardware or protocol types are unsupported", "[wire][arp][malformed]") {
    for (std::size_t at : {1u, 3u, 4u, 5u}) { // htype, ptype, hlen, plen
        auto bytes = arp_bytes("arp_request");
        bytes[at] ^= 0x08;
        INFO("byte " << at);
        REQUIRE(parse_arp(bytes).error() == WireError::unsupported);
    }
}
