#pragma once
// The IPv4 neighbour cache (ARP, RFC 826 and RFC 1122 section 2.3.2): which
// MAC address each on-link IPv4 address has, learnt from ARP packets, with
// a short queue of packets waiting while an address is being resolved.
//
// Fixed size: entries, buckets and the waiting queues are all allocated at
// construction; a full cache or queue is back-pressure (counted), never
// growth. Timers (request retries, expiry) are entries of the owner's wheel.
// No I/O: the owner sends the ARP requests the cache asks for and transmits
// the packets it hands back.

#include <synack/base/siphash.hpp>
#include <synack/time/timer_wheel.hpp>
#include <synack/wire/bytes.hpp>
#include <synack/wire/mbuf.hpp>

#include <boost/intrusive/unordered_set.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace synack::net {

struct NeighborConfig {
    /// Addresses remembered at once.
    std::uint32_t capacity = 1024;
    /// An entry confirmed by an ARP packet is used this long without asking
    /// again (RFC 1122 section 2.3.2.1 asks for a timeout; Linux uses
    /// 30 s), then once more while it is re-asked for.
    time::Duration reachable = time::Duration::from_s(30);
    /// Between requests for an address that has not answered.
    time::Duration retry = time::Duration::from_s(1);
    /// Requests before the address is given up as unreachable.
    std::uint8_t max_requests = 3;
    /// Packets held per address being resolved (RFC 1122 section 2.3.2.2:
    /// "SHOULD save at least one (the latest) packet"); beyond, the oldest goes.
    std::uint16_t max_pending = 16;
};

struct NeighborCounters {
    std::uint64_t requests = 0;        // ARP requests asked for
    std::uint64_t resolved = 0;        // addresses learnt
    std::uint64_t unreachable = 0;     // addresses given up on
    std::uint64_t pending_dropped = 0; // waiting packets dropped (queue full, or given up)
    std::uint64_t cache_full = 0;      // no entry free for a new address: packet dropped
};

/// One address. Internal to the cache; its timer is armed in the owner's wheel.
struct Neighbor {
    enum class State : std::uint8_t {
        incomplete, // asked for, no answer yet
        reachable,  // confirmed within NeighborConfig::reachable
        stale,      // not confirmed lately: used, and asked for again
    };
    boost::intrusive::unordered_set_member_hook<> hook;
    wire::Ipv4Addr ip;
    wire::MacAddr mac;
    State state = State::incomplete;
    std::uint8_t requests = 0; // requests sent since the last confirmation
    time::TimerNode timer;
    // Waiting packets: a ring in the cache's shared array.
    std::uint32_t pending_first = 0;
    std::uint16_t pending_count = 0;
};

/// The kind the cache gives its timers, so that the owner can dispatch them.
inline constexpr std::uint8_t neighbor_timer_kind = 0x81;

class NeighborCache {
public:
    NeighborCache(const NeighborConfig& config, SipKey key, time::TimerWheel& wheel);
    /// Frees every waiting packet and disarms every timer.
    ~NeighborCache();
    NeighborCache(const NeighborCache&) = delete;
    NeighborCache& operator=(const NeighborCache&) = delete;

    /// What to do with a packet for a next hop.
    struct Route {
        std::optional<wire::MacAddr> mac; // send now, to this address
        bool ask = false;                 // send an ARP request for the next hop now
    };

    /// For an outgoing packet to next hop ip: its MAC when known (a stale one
    /// too, asking again); otherwise the cache keeps the packet (the handle is
    /// emptied, or freed and counted when it cannot be kept) until learn()
    /// hands it back.
    Route resolve(wire::Ipv4Addr ip, wire::MbufPtr& packet, time::Instant now) noexcept;

    /// An ARP packet from ip at mac arrived (RFC 826 "merge"): an entry for
    /// ip is updated; one is made only when `create` (the packet was meant for
    /// us). Packets that waited for ip are passed to ready(rte_mbuf*, MacAddr)
    /// in order, for the owner to send.
    template <class Ready>
    void learn(wire::Ipv4Addr ip, wire::MacAddr mac, bool create, time::Instant now, Ready&& ready) noexcept {
        Neighbor* n = find(ip);
        if (n == nullptr) {
            if (!create || (n = make(ip)) == nullptr) {
                return;
            }
        }
        confirm(*n, mac, now);
        while (n->pending_count != 0) {
            ready(pop_pending(*n), mac);
        }
    }

    /// A cache timer fired (kind neighbor_timer_kind). Returns the address to
    /// ask for again, or nullopt when nothing is to be sent (an entry expired,
    /// or was given up on, its packets freed and counted).
    std::optional<wire::Ipv4Addr> timer_fired(time::TimerNode& timer, time::Instant now) noexcept;

    /// The MAC for ip if an entry holds one (for tests and counters).
    std::optional<wire::MacAddr> peek(wire::Ipv4Addr ip) noexcept;
    std::size_t size() const noexcept { return set_.size(); }
    const NeighborCounters& counters() const noexcept { return counters_; }

private:
    struct KeyOf {
        using type = wire::Ipv4Addr;
        const type& operator()(const Neighbor& n) const noexcept { return n.ip; }
    };
    struct Hash {
        SipKey key;
        std::size_t operator()(const wire::Ipv4Addr& ip) const noexcept;
    };
    using Set = boost::intrusive::unordered_set<
        Neighbor, boost::intrusive::member_hook<Neighbor, boost::intrusive::unordered_set_member_hook<>, &Neighbor::hook>,
        boost::intrusive::key_of_value<KeyOf>, boost::intrusive::hash<Hash>,
        boost::intrusive::power_2_buckets<true>, boost::intrusive::constant_time_size<true>>;

    Neighbor* find(wire::Ipv4Addr ip) noexcept;
    Neighbor* make(wire::Ipv4Addr ip) noexcept;
    void forget(Neighbor& n) noexcept;
    void confirm(Neighbor& n, wire::MacAddr mac, time::Instant now) noexcept;
    void push_pending(Neighbor& n, rte_mbuf* m) noexcept;
    rte_mbuf* pop_pending(Neighbor& n) noexcept;
    void drop_pending(Neighbor& n) noexcept;

    NeighborConfig config_;
    time::TimerWheel& wheel_;
    std::unique_ptr<Neighbor[]> entries_;
    std::vector<Neighbor*> free_;
    std::unique_ptr<rte_mbuf*[]> pending_; // max_pending slots per entry
    std::unique_ptr<Set::bucket_type[]> buckets_;
    Set set_;
    NeighborCounters counters_;
};

} // namespace synack::net
