#include <synack/wire/ethernet.hpp>
#include <synack/wire/icmp.hpp>
#include <synack/wire/ipv4.hpp>

#include "unit/test_support.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace synack::wire;
using synack::test::golden;

namespace {

std::vector<std::uint8_t> icmp_bytes(const char* name) {
    const auto frame = golden(name);
    auto eth = parse_ethernet(frame);
    REQUIRE(eth.ok());
    auto ip = parse_ipv4(eth->payload, ChecksumCheck::verify());
    REQUIRE(ip.ok());
    REQUIRE(ip->protocol() == ip_proto::icmp);
    return {ip->payload().begin(), ip->payload().end()};
}

} // namespace

TEST_CASE("icmp: Linux echo request and reply", "[wire][icmp][golden][rfc792]") {
    const auto req_bytes = icmp_bytes("icmp4_echo_request");
    auto req = parse_icmpv4(req_bytes, ChecksumCheck::verify());
    REQUIRE(req.ok());
    REQUIRE(req->type() == icmp_type::echo_request);
    REQUIRE(req->code() == 0);
    REQUIRE(req->checksum() == 0x1200);
    REQUIRE(req->echo_id() == 0x1be3);
    REQUIRE(req->echo_seq() == 1);
    REQUIRE(req->body().size() == 56);

    const auto rep_bytes = icmp_bytes("icmp4_echo_reply");
    auto rep = parse_icmpv4(rep_bytes, ChecksumCheck::verify());
    REQUIRE(rep.ok());
    REQUIRE(rep->type() == icmp_type::echo_reply);
}

TEST_CASE("icmp: our echo reply to Linux's request equals Linux's own reply",
          "[wire][icmp][golden][rfc792]") {
    const auto req_bytes = icmp_bytes("icmp4_echo_request");
    auto req = parse_icmpv4(req_bytes, ChecksumCheck::verify());
    REQUIRE(req.ok());
    const auto reply = Icmpv4Repr::echo_reply_to(*req);
    std::vector<std::uint8_t> out(reply.len());
    reply.emit(out);
    REQUIRE(out == icmp_bytes("icmp4_echo_reply"));
}

TEST_CASE("icmp: Linux port unreachable quotes the datagram", "[wire][icmp][golden][rfc792]") {
    const auto bytes = icmp_bytes("icmp4_port_unreachable");
    auto msg = parse_icmpv4(bytes, ChecksumCheck::verify());
    REQUIRE(msg.ok());
    REQUIRE(msg->type() == icmp_type::dest_unreachable);
    REQUIRE(msg->code() == icmp_unreach_code::port);
    auto quoted = parse_ipv4(msg->body(), ChecksumCheck::verify());
    REQUIRE(quoted.ok());
    REQUIRE(quoted->protocol() == ip_proto::udp);
    REQUIRE(load_be16(quoted->payload().data() + 2) == 5999);
}

TEST_CASE("icmp: our port unreachable equals Linux's", "[wire][icmp][golden][rfc792]") {
    const auto frame = golden("udp4_closed_port");
    auto eth = parse_ethernet(frame);
    REQUIRE(eth.ok());
    const Icmpv4Repr unreachable{icmp_type::dest_unreachable, icmp_unreach_code::port, 0,
                                 eth->payload};
    std::vector<std::uint8_t> out(unreachable.len());
    unreachable.emit(out);
    REQUIRE(out == icmp_bytes("icmp4_port_unreachable"));
}

TEST_CASE("icmp: malformed: shorter than 8 bytes is truncated", "[wire][icmp][malformed]") {
    const auto bytes = icmp_bytes("icmp4_echo_request");
    for (std::size_t len = 0; len < icmp_header_len; ++len) {
        auto r = parse_icmpv4(Bytes(bytes).first(len), ChecksumCheck::verify());
        REQUIRE(r.error() == WireError::truncated);
    }
}

TEST_CASE("icmp: malformed: checksum over the whole message", "[wire][icmp][malformed]") {
    auto bytes = icmp_bytes("icmp4_echo_request");
    bytes.back() ^= 1;
    REQUIRE(parse_icmpv4(bytes, ChecksumCheck::verify()).error() == WireError::bad_checksum);
    REQUIRE(parse_icmpv4(bytes, ChecksumCheck::known_good()).ok());
    REQUIRE(parse_icmpv4(bytes, ChecksumCheck::known_bad()).error() == WireError::bad_checksum);
}
