// Every packet Linux put on the wire parses through our stack with its
// checksums verified, our own checksum over it equals Linux's, and no
// mutation of it can make a parser read out of bounds or crash.

#include <synack/wire/arp.hpp>
#include <synack/wire/ethernet.hpp>
#include <synack/wire/icmp.hpp>
#include <synack/wire/ipv4.hpp>
#include <synack/wire/ipv6.hpp>
#include <synack/wire/tcp.hpp>

#include "unit/test_support.hpp"

#include <catch2/catch.hpp>

#include <random>
#include <vector>

using namespace synack::wire;
using namespace synack::test;

namespace {

// How far a frame parsed: which layer, and whether every checksum held.
struct Walk {
    bool ok = true;
    WireError error{};
    std::uint8_t l4 = 0;
};

// Checksums of protocols without a parser of their own (UDP, ICMPv6).
void verify_upper(Walk& w, std::uint16_t pseudo_sum, Bytes upper) {
    Checksum sum;
    sum.add16(pseudo_sum);
    sum.add(upper);
    if (!sum.verifies()) {
        w.ok = false;
        w.error = WireError::bad_checksum;
    }
}

template <typename R>
bool step(Walk& w, const R& r) {
    if (!r.ok()) {
        w.ok = false;
        w.error = r.error();
    }
    return r.ok();
}

// Checks what a parsed view promises: everything it hands out lies inside the input.
void require_within(Bytes outer, Bytes inner) {
    if (!inner.empty()) {
        REQUIRE(inner.data() >= outer.data());
        REQUIRE(inner.data() + inner.size() <= outer.data() + outer.size());
    }
}

Walk walk(Bytes frame) {
    Walk w;
    auto eth = parse_ethernet(frame);
    if (!step(w, eth)) {
        return w;
    }
    require_within(frame, eth->payload);
    switch (eth->ethertype) {
    case ethertype::arp: step(w, parse_arp(eth->payload)); return w;
    case ethertype::ipv4: {
        auto ip = parse_ipv4(eth->payload, ChecksumCheck::verify());
        if (!step(w, ip)) {
            return w;
        }
        require_within(eth->payload, ip->payload());
        w.l4 = ip->protocol();
        if (ip->is_fragment()) {
            return w; // the upper-layer checksum covers the reassembled datagram
        }
        if (ip->protocol() == ip_proto::tcp) {
            auto seg = parse_tcp(ip->payload(), ChecksumCheck::verify(ip->pseudo_sum()));
            if (step(w, seg)) {
                require_within(ip->payload(), seg->payload());
            }
        } else if (ip->protocol() == ip_proto::icmp) {
            step(w, parse_icmpv4(ip->payload(), ChecksumCheck::verify()));
        } else if (ip->protocol() == ip_proto::udp) {
            verify_upper(w, ip->pseudo_sum(), ip->payload()); // no UDP parser yet
        }
        return w;
    }
    case ethertype::ipv6: {
        auto ip = parse_ipv6(eth->payload);
        if (!step(w, ip)) {
            return w;
        }
        require_within(eth->payload, ip->upper);
        w.l4 = ip->upper_protocol;
        if (ip->is_fragment) {
            return w;
        }
        if (ip->upper_protocol == ip_proto::tcp) {
            auto seg = parse_tcp(ip->upper, ChecksumCheck::verify(ip->pseudo_sum()));
            if (step(w, seg)) {
                require_within(ip->upper, seg->payload());
            }
        } else if (ip->upper_protocol == ip_proto::icmpv6) {
            // ICMPv6 checksums cover the pseudo-header (RFC 4443 section 2.3).
            verify_upper(w, ip->pseudo_sum(), ip->upper);
        }
        return w;
    }
    default: return w;
    }
}

} // namespace

TEST_CASE("golden: every Linux frame parses and every checksum verifies", "[wire][golden]") {
    const auto names = golden_names();
    REQUIRE(names.size() >= 20);
    for (const auto& name : names) {
        INFO(name);
        const auto frame = golden(name);
        const Walk w = walk(frame);
        if (!w.ok) {
            FAIL("parse failed: " << to_string(w.error));
        }
    }
}

TEST_CASE("golden: our checksums recomputed from scratch equal Linux's", "[wire][golden]") {
    for (const auto& name : golden_names()) {
        INFO(name);
        auto frame = golden(name);
        auto eth = parse_ethernet(frame);
        REQUIRE(eth.ok());
        if (eth->ethertype != ethertype::ipv4) {
            continue;
        }
        const std::size_t ip_at = eth->header_len();
        std::uint8_t* ip = frame.data() + ip_at;
        const std::size_t ihl = (ip[0] & 0x0fu) * 4u;
        const std::uint16_t linux_sum = load_be16(ip + 10);
        store_be16(ip + 10, 0);
        REQUIRE(checksum({ip, ihl}) == linux_sum);
        store_be16(ip + 10, linux_sum);

        auto parsed = parse_ipv4(Bytes(frame).subspan(ip_at), ChecksumCheck::verify());
        REQUIRE(parsed.ok());
        if (parsed->protocol() != ip_proto::tcp || parsed->is_fragment()) {
            continue;
        }
        std::uint8_t* tcp = ip + ihl;
        const std::uint16_t linux_tcp = load_be16(tcp + 16);
        store_be16(tcp + 16, 0);
        Checksum sum;
        sum.add16(parsed->pseudo_sum());
        sum.add({tcp, parsed->payload().size()});
        REQUIRE(sum.finish() == linux_tcp);
    }
}

TEST_CASE("golden: truncated, bit-flipped and length-mangled frames never crash a parser",
          "[wire][golden][malformed]") {
    std::mt19937 rng(20261121);
    for (const auto& name : golden_names()) {
        const auto frame = golden(name);
        for (std::size_t len = 0; len <= frame.size(); ++len) {
            (void)walk(Bytes(frame).first(len));
        }
        for (int round = 0; round < 500; ++round) {
            auto m = frame;
            const int flips = 1 + static_cast<int>(rng() % 4);
            for (int f = 0; f < flips; ++f) {
                m[rng() % m.size()] = static_cast<std::uint8_t>(rng());
            }
            // Each mutation lives in a buffer of exactly its size, so ASan sees any overread.
            const std::size_t len = rng() % 4 == 0 ? rng() % (m.size() + 1) : m.size();
            std::vector<std::uint8_t> exact(m.begin(), m.begin() + static_cast<long>(len));
            (void)walk(exact);
        }
    }
}
