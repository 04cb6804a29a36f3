#pragma once
// Which run loop owns a packet (docs/design.md "Steering"). A connection lives on
// one core for its whole life; its owner is fixed when the port starts, from
// the Toeplitz hash of the packet's addresses and ports:
//
//   rss       the port spreads packets by RSS over a queue per loop (at
//             least) and reported its key and RETA: owner = RETA[hash % size]
//             % workers (queue q is polled by loop q % workers). The software
//             hash is checked against every TCP packet's queue (and the NIC's
//             hash where it gives one); a disagreement is counted, logged
//             once, the mode becomes `software`, and the packet goes on to
//             its owner over a ring. Owners never change, so no connection
//             moves.
//   software  the port cannot do RSS (one queue: TAP, AF_PACKET; or AF_PACKET
//             fanout, whose hash is the kernel's): owner = hash % workers,
//             with the symmetric key. Each loop receives from its queues and
//             passes what it does not own to the owner over an SPSC rte_ring.
//   single    one run loop: nothing to steer.
//
// ARP goes to every loop (each engine keeps its own neighbour cache; loop 0
// alone answers requests). A loop without a TX queue of its own (a port with
// fewer TX queues than loops) hands its frames to the loop that has one, over
// another SPSC ring. No other path crosses cores, and none takes a lock.

#include <synack/runtime/port.hpp>
#include <synack/runtime/toeplitz.hpp>
#include <synack/tcp/four_tuple.hpp>

#include <rte_mbuf.h>
#include <rte_ring.h>

#include <atomic>
#include <memory>
#include <optional>
#include <vector>

namespace synack::runtime {

enum class SteeringMode : std::uint8_t { single, rss, software };
const char* to_string(SteeringMode m) noexcept;

/// One run loop's steering counters.
struct SteeringCounters {
    std::uint64_t passed = 0;          // received here, passed to their owner's ring
    std::uint64_t taken = 0;           // received by another loop, taken from our ring
    std::uint64_t ring_full = 0;       // not passed: the owner's ring was full (back-pressure), freed
    std::uint64_t rss_mismatches = 0;  // TCP packets the port's RSS put on another loop's queue
    std::uint64_t arp_copies = 0;      // ARP frames copied to the other loops
    std::uint64_t copy_failed = 0;     // ARP copies not made: no mbuf
    std::uint64_t tx_handed_off = 0;   // frames passed to the loop that owns a TX queue

    /// Adds another loop's counters (for totals).
    SteeringCounters& operator+=(const SteeringCounters& o) noexcept {
        passed += o.passed;
        taken += o.taken;
        ring_full += o.ring_full;
        rss_mismatches += o.rss_mismatches;
        arp_copies += o.arp_copies;
        copy_failed += o.copy_failed;
        tx_handed_off += o.tx_handed_off;
        return *this;
    }
};

class Steering {
public:
    /// Every loop.
    static constexpr unsigned everyone = ~0u;
    /// Per ring: more than a few bursts from every queue of a loop, so a
    /// busy owner drops only when it falls behind for a while.
    static constexpr unsigned ring_size = 4096;

    /// Plans the steering of `workers` loops over port (started), and makes
    /// its rings. Errors name the call that failed.
    static Result<std::unique_ptr<Steering>, PortError> create(const Port& port, unsigned workers) noexcept;
    /// The same from the port's facts (rss: what it reported, if anything).
    static Result<std::unique_ptr<Steering>, PortError> create(std::uint16_t port_id, unsigned workers,
                                                               unsigned rx_queues, unsigned tx_queues,
                                                               const std::optional<RssState>& rss) noexcept;
    /// Frees what the rings still hold, then the rings.
    ~Steering();
    Steering(const Steering&) = delete;
    Steering& operator=(const Steering&) = delete;

    unsigned workers() const noexcept { return workers_; }
    SteeringMode mode() const noexcept { return mode_.load(std::memory_order_relaxed); }
    /// The RX queues loop w polls (queue q belongs to loop q % workers).
    std::vector<std::uint16_t> rx_queues(unsigned w) const;
    /// Loop w's TX queue, or nullopt when it hands its frames to tx_owner(w).
    std::optional<std::uint16_t> tx_queue(unsigned w) const noexcept {
        return w < tx_queues_ ? std::optional<std::uint16_t>(static_cast<std::uint16_t>(w)) : std::nullopt;
    }
    unsigned tx_owner(unsigned w) const noexcept { return w % tx_queues_; }

    /// The owner of a received frame: a loop, or `everyone` (ARP). A frame
    /// too short or strange to hash stays with `here`, whose engine counts it.
    /// For a TCP packet that arrived at `here` in rss mode, checks where it
    /// should have arrived (counters of `here`).
    unsigned owner(const rte_mbuf* m, unsigned here, SteeringCounters& counters) noexcept;
    /// Whether loop w owns the connection `tuple` (from our side): the test
    /// for an active open's ephemeral port, so the replies come back to w.
    bool owns(unsigned w, const tcp::FourTuple& tuple) const noexcept;
    /// The same for an IPv4 connection named by its addresses and ports.
    bool owns(unsigned w, wire::Ipv4Addr local, std::uint16_t local_port, wire::Ipv4Addr remote,
              std::uint16_t remote_port) const noexcept;

    /// The ring from loop `from` to loop `to` (from != to); the TX hand-off ring of loop `from`.
    rte_ring* ring(unsigned from, unsigned to) const noexcept { return rings_[from * workers_ + to]; }
    rte_ring* tx_ring(unsigned from) const noexcept { return tx_rings_[from]; }

private:
    Steering(unsigned workers, unsigned rx_queues, unsigned tx_queues, std::span<const std::uint8_t> key);
    unsigned owner_of_hash(std::uint32_t hash) const noexcept {
        return reta_.empty() ? hash % workers_ : reta_[hash % reta_.size()] % workers_;
    }
    void rss_disagrees(unsigned here, unsigned owner, std::uint32_t hash, std::uint32_t nic_hash) noexcept;

    unsigned workers_;
    unsigned rx_queues_;
    unsigned tx_queues_;
    Toeplitz toeplitz_;
    std::vector<std::uint16_t> reta_; // rss mode: the port's; empty: hash % workers
    std::atomic<SteeringMode> mode_{SteeringMode::single};
    std::atomic<bool> warned_{false};
    std::vector<rte_ring*> rings_;    // [from * workers + to], nullptr on the diagonal
    std::vector<rte_ring*> tx_rings_; // [from], nullptr for loops with a TX queue
};

} // namespace synack::runtime
