#pragma once
// The adversary: a station on the simulated wire that plays hosts of its own
// (a peer that speaks TCP by hand, a host whose TCP never answers, a router)
// and may forge frames from anyone. It answers ARP for the hosts that exist
// (RFC 826), hands every TCP segment sent to one of its hosts to the
// scenario, and sends whatever segment the scenario crafts, to A or B, from
// any address: spoofing is the point.

#include "sim/frames.hpp"
#include "sim/world.hpp"

#include <functional>
#include <vector>

namespace synack::sim {

/// A host the adversary plays on the link.
struct Host {
    wire::Ipv4Addr ip;
    wire::MacAddr mac;
    bool answers_arp = true; // false: the address does not exist, as far as ARP goes
};

struct AdversaryCounters {
    std::uint64_t arp_answered = 0;
    std::uint64_t segments_received = 0; // TCP segments to one of our hosts
    std::uint64_t segments_sent = 0;
    std::uint64_t no_mbuf = 0;
};

class Adversary final : public Station {
public:
    /// A TCP segment for one of our hosts arrived from A (from_a) or B.
    using Handler = std::function<void(World&, bool from_a, const Segment&)>;

    void add_host(const Host& h) { hosts_.push_back(h); }
    void set_handler(Handler h) { handler_ = std::move(h); }
    /// Sends s to A (to_a) or B with `payload`; false when the pool is empty.
    bool send(World& w, bool to_a, const Segment& s, wire::Bytes payload = {});

    bool owns(const wire::MacAddr& mac) const noexcept override;
    void receive(World& w, bool from_a, const rte_mbuf* frame) override;

    const AdversaryCounters& counters() const noexcept { return counters_; }

private:
    const Host* host_of(wire::Ipv4Addr ip) const noexcept;

    std::vector<Host> hosts_;
    Handler handler_;
    FrameReader reader_;
    AdversaryCounters counters_;
};

} // namespace synack::sim
