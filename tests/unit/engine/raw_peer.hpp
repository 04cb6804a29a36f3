#pragma once
// A scripted peer that speaks to one Engine in raw frames: it sends TCP
// segments built from TcpRepr values (checksums right) and reads back what
// the engine transmits, parsed. For the cases two engines cannot produce: odd
// flags, forged cookies, floods, peers that never answer.

#include <synack/engine/engine.hpp>
#include <synack/wire/build.hpp>
#include <synack/wire/ethernet.hpp>
#include <synack/wire/ipv4.hpp>
#include <synack/wire/tcp.hpp>

#include "unit/test_support.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace synack::test {

/// A segment the engine sent, parsed.
struct Heard {
    wire::Ipv4Addr dst;
    wire::TcpRepr hdr;
    std::string payload;
};

class RawPeer {
public:
    static inline const wire::Ipv4Addr engine_ip = wire::Ipv4Addr::from_octets(10, 7, 0, 1);
    static inline const wire::Ipv4Addr peer_ip = wire::Ipv4Addr::from_octets(10, 7, 0, 2);
    static inline const wire::MacAddr engine_mac{{0x02, 0, 0, 0, 7, 1}};
    static inline const wire::MacAddr peer_mac{{0x02, 0, 0, 0, 7, 2}};

    /// An engine configuration that sends every frame to the peer, no ARP.
    static engine::EngineConfig config() {
        engine::EngineConfig c;
        c.ipv4 = engine_ip;
        c.mac = engine_mac;
        c.next_hop_mac = peer_mac;
        c.max_connections = 64;
        c.secret = {0x1234, 0x5678};
        return c;
    }

    explicit RawPeer(engine::Engine& e, time::Instant at) : engine_(e), now(at) {}

    /// The segment arrives at the engine from src (the peer's address unless given).
    void send(wire::TcpRepr seg, std::string_view payload = {}, wire::Ipv4Addr src = peer_ip) {
        rte_mbuf* frame = frame_of(seg, payload, src);
        engine_.input(&frame, 1, now);
    }

    /// The segments arrive together, in one receive burst.
    void send_burst(const std::vector<wire::TcpRepr>& segs) {
        std::vector<rte_mbuf*> frames;
        for (const wire::TcpRepr& seg : segs) {
            frames.push_back(frame_of(seg, {}, peer_ip));
        }
        engine_.input(frames.data(), static_cast<std::uint16_t>(frames.size()), now);
    }

    /// A frame as a NIC delivers it: one fresh mbuf, no offload flags.
    static rte_mbuf* frame_of(wire::TcpRepr seg, std::string_view payload, wire::Ipv4Addr src) {
        wire::MbufPtr m = mbuf_from(std::span(reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size()));
        REQUIRE(wire::prepend_tcp(m.get(), seg));
        wire::Ipv4Repr ip;
        ip.src = src;
        ip.dst = engine_ip;
        ip.protocol = wire::ip_proto::tcp;
        REQUIRE(wire::prepend_ipv4(m.get(), ip));
        REQUIRE(wire::prepend_ethernet(m.get(), wire::EthernetRepr{engine_mac, peer_mac, wire::ethertype::ipv4}));
        wire::finalize_checksums(m.get(), {});
        return mbuf_from(bytes_of(m.get())).release();
    }

    /// Everything the engine transmitted since the last call, TCP parsed.
    std::vector<Heard> heard() {
        std::vector<Heard> v;
        rte_mbuf* burst[64];
        while (const std::uint16_t n = engine_.drain(burst, 64)) {
            for (std::uint16_t i = 0; i < n; ++i) {
                wire::MbufPtr m(burst[i]);
                const std::vector<std::uint8_t> bytes = bytes_of(m.get());
                auto eth = wire::parse_ethernet(bytes);
                REQUIRE(eth.ok());
                if (eth->ethertype != wire::ethertype::ipv4) {
                    continue;
                }
                auto ip = wire::parse_ipv4(eth->payload, wire::ChecksumCheck::verify());
                REQUIRE(ip.ok());
                if (ip->protocol() != wire::ip_proto::tcp) {
                    continue;
                }
                auto tcp = wire::parse_tcp(ip->payload(), wire::ChecksumCheck::verify(ip->pseudo_sum()));
                REQUIRE(tcp.ok());
                Heard h;
                h.dst = ip->dst();
                h.hdr = {tcp->src_port(), tcp->dst_port(), tcp->seq(),      tcp->ack(),
                         tcp->flags(),    tcp->window(),   tcp->urgent_pointer(), tcp->options()};
                h.payload.assign(tcp->payload().begin(), tcp->payload().end());
                v.push_back(h);
            }
        }
        return v;
    }

    /// The one segment the engine sent; fails unless there was exactly one.
    Heard expect_one() {
        const std::vector<Heard> v = heard();
        REQUIRE(v.size() == 1);
        return v[0];
    }

    /// Moves time on and polls the engine.
    void advance(time::Duration d) {
        now = now + d;
        engine_.poll(now);
    }

private:
    engine::Engine& engine_;

public:
    time::Instant now;
};

} // namespace synack::test
