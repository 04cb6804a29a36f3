#include "sim/adversary.hpp"

#include <algorithm>

namespace synack::sim {

const Host* Adversary::host_of(wire::Ipv4Addr ip) const noexcept {
    const auto it =
        std::find_if(hosts_.begin(), hosts_.end(), [&](const Host& h) { return h.ip == ip; });
    return it == hosts_.end() ? nullptr : &*it;
}

bool Adversary::owns(const wire::MacAddr& mac) const noexcept {
    return std::any_of(hosts_.begin(), hosts_.end(), [&](const Host& h) { return h.mac == mac; });
}

bool Adversary::send(World& w, bool to_a, const Segment& s, wire::Bytes payload) {
    rte_mbuf* m = build_tcp_frame(w.pool, s, payload);
    if (m == nullptr) {
        ++counters_.no_mbuf;
        return false;
    }
    ++counters_.segments_sent;
    w.inject(to_a, m);
    return true;
}

void Adversary::receive(World& w, bool from_a, const rte_mbuf* frame) {
    if (auto arp = reader_.arp(frame)) {
        // RFC 826, "Packet Reception": a request for a host that exists is
        // answered, to the asker's MAC.
        const Host* h = host_of(arp->target_ip);
        if (arp->is_request() && h != nullptr && h->answers_arp) {
            const wire::ArpRepr reply{static_cast<std::uint16_t>(wire::ArpOp::reply), h->mac, h->ip,
                                      arp->sender_mac, arp->sender_ip};
            if (rte_mbuf* m = build_arp_frame(w.pool, arp->sender_mac, h->mac, reply)) {
                ++counters_.arp_answered;
                w.inject(from_a, m);
            } else {
                ++counters_.no_mbuf;
            }
        }
        return;
    }
    auto seg = reader_.tcp(frame);
    if (!seg || host_of(seg->dst) == nullptr) {
        return;
    }
    ++counters_.segments_received;
    if (handler_) {
        handler_(w, from_a, *seg);
    }
}

} // namespace synack::sim
