#include <synack/wire/ethernet.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

using namespace synack::wire;

namespace {

const MacAddr mac_a{{0x02, 0x00, 0x00, 0x00, 0x00, 0x0a}};
const MacAddr mac_b{{0x02, 0x00, 0x00, 0x00, 0x00, 0x0b}};

std::vector<std::uint8_t> frame(std::vector<std::uint16_t> types_and_tags, std::size_t payload) {
    std::vector<std::uint8_t> f(12);
    std::copy(mac_a.bytes.begin(), mac_a.bytes.end(), f.begin());
    std::copy(mac_b.bytes.begin(), mac_b.bytes.end(), f.begin() + 6);
    for (std::uint16_t w : types_and_tags) {
        f.push_back(static_cast<std::uint8_t>(w >> 8));
        f.push_back(static_cast<std::uint8_t>(w));
    }
    f.resize(f.size() + payload, 0xee);
    return f;
}

} // namespace

TEST_CASE("ethernet: untagged frame", "[wire]") {
    const auto f = frame({ethertype::ipv4}, 46);
    auto r = parse_ethernet(f);
    REQUIRE(r.ok());
    REQUIRE(r->dst == mac_a);
    REQUIRE(r->src == mac_b);
    REQUIRE(r->ethertype == ethertype::ipv4);
    REQUIRE(r->vlan_count == 0);
    REQUIRE(r->vlan_id() == 0);
    REQUIRE(r->header_len() == 14);
    REQUIRE(r->payload.size() == 46);
}

TEST_CASE("ethernet: one 802.1Q tag gives its VLAN id and the inner ethertype", "[wire][802.1q]") {
    const auto f = frame({ethertype::vlan, 0x602a, ethertype::ipv6}, 40); // PCP 3, VID 42
    auto r = parse_ethernet(f);
    REQUIRE(r.ok());
    REQUIRE(r->ethertype == ethertype::ipv6);
    REQUIRE(r->vlan_count == 1);
    REQUIRE(r->vlan_tci[0] == 0x602a);
    REQUIRE(r->vlan_id() == 42);
    REQUIRE(r->header_len() == 18);
    REQUIRE(r->payload.size() == 40);
}

TEST_CASE("ethernet: 802.1ad outer plus 802.1Q inner tag (QinQ)", "[wire][802.1q]") {
    const auto f = frame({ethertype::qinq, 100, ethertype::vlan, 200, ethertype::arp}, 28);
    auto r = parse_ethernet(f);
    REQUIRE(r.ok());
    REQUIRE(r->vlan_count == 2);
    REQUIRE(r->vlan_tci[0] == 100);
    REQUIRE(r->vlan_id() == 200);
    REQUIRE(r->ethertype == ethertype::arp);
    REQUIRE(r->header_len() == 22);
}

TEST_CASE("ethernet: a third tag is too_many_vlan_tags", "[wire][malformed]") {
    const auto f = frame({ethertype::qinq, 1, ethertype::vlan, 2, ethertype::vlan, 3, ethertype::ipv4}, 20);
    auto r = parse_ethernet(f);
    REQUIRE_FALSE(r.ok());
    REQUIRE(r.error() == WireError::too_many_vlan_tags);
}

TEST_CASE("ethernet: shorter than 14 bytes is truncated", "[wire][malformed]") {
    auto f = frame({ethertype::ipv4}, 0);
    f.pop_back();
    auto r = parse_ethernet(f);
    REQUIRE_FALSE(r.ok());
    REQUIRE(r.error() == WireError::truncated);
}

TEST_CASE("ethernet: a VLAN tag cut short is truncated", "[wire][malformed]") {
    auto f = frame({ethertype::vlan, 42, ethertype::ipv4}, 0);
    for (std::size_t len = 14; len < f.size(); ++len) {
        auto r = parse_ethernet(Bytes(f).first(len));
        INFO("length " << len);
        REQUIRE_FALSE(r.ok());
        REQUIRE(r.error() == WireError::truncated);
    }
    REQUIRE(parse_ethernet(f).ok());
}

TEST_CASE("ethernet: emit then parse round-trips, with and without a tag", "[wire]") {
    for (bool tagged : {false, true}) {
        EthernetRepr repr{mac_a, mac_b, ethertype::ipv4, tagged, 0x2007};
        std::vector<std::uint8_t> buf(repr.header_len());
        repr.emit(buf);
        auto r = parse_ethernet(buf);
        REQUIRE(r.ok());
        REQUIRE(r->dst == mac_a);
        REQUIRE(r->src == mac_b);
        REQUIRE(r->ethertype == ethertype::ipv4);
        REQUIRE(r->vlan_count == (tagged ? 1 : 0));
        REQUIRE(r->header_len() == repr.header_len());
        if (tagged) {
            REQUIRE(r->vlan_tci[0] == 0x2007);
        }
    }
}

TEST_CASE("ethernet: group addresses are recognised", "[wire]") {
    REQUIRE(MacAddr::broadcast().is_broadcast());
    REQUIRE(MacAddr::broadcast().is_multicast());
    REQUIRE(MacAddr{{0x01, 0x00, 0x5e, 0, 0, 1}}.is_multicast());
    REQUIRE_FALSE(mac_a.is_multicast());
}

TEST_CASE("WireError: every code has its own stable name for counters", "[wire]") {
    std::vector<std::string> names;
    for (int e = 0; e <= static_cast<int>(WireError::misplaced_hop_by_hop); ++e) {
        names.emplace_back(to_string(static_cast<WireError>(e)));
        REQUIRE(names.back() != "unknown");
    }
    std::sort(names.begin(), names.end());
    REQUIRE(std::adjacent_find(names.begin(), names.end()) == names.end());
}
