#pragma once
// One run loop's share of the balancer, built on the public API only
// (synack/api/stack.hpp): each client connection gets a connection to a
// backend, and the two are spliced by moving mbufs (take on one side, send
// on the other), never copying them.
//
// Back-pressure: a side is read only as far as the other side's send budget
// allows; what is not read closes that side's window, and its peer waits.
// Half-close goes across (a FIN read on one side, once everything before it
// has been forwarded, becomes a shutdown of the other), and so does a reset
// (an abnormal end of one side aborts the other). A backend that refuses or
// does not answer is marked down for a while and its client is reset.

#include "options.hpp"
#include "picker.hpp"

#include <synack/api/stack.hpp>

#include <cstdint>
#include <vector>

namespace synack::lb {

struct BackendStats {
    std::uint64_t connections = 0; // opened to it
    std::uint64_t failures = 0;    // refused or timed out before connecting
    std::uint64_t bytes_to = 0;    // forwarded from clients
    std::uint64_t bytes_from = 0;  // forwarded to clients
    std::uint64_t active = 0;      // open now
};

struct BalancerStats {
    std::uint64_t accepted = 0;
    std::uint64_t no_backend =
        0; // clients reset: every backend down, or no connection could be opened
    std::uint64_t backend_failed = 0;   // clients reset: their backend refused or timed out
    std::uint64_t resets_forwarded = 0; // an abnormal end of one side passed to the other
    std::uint64_t half_closes = 0;      // FINs passed across
    std::vector<BackendStats> backends;
};

class Balancer {
public:
    Balancer(Stack& stack, const Options& options);

    /// Listens on every --listen port. Returns the port it could not listen on.
    std::optional<std::uint16_t> start();
    /// Handles what the ready list holds.
    void step(time::Instant now);
    /// Resets every connection still open (at exit).
    void abort_all();

    const BalancerStats& stats() const noexcept { return stats_; }
    /// Spliced pairs open now.
    std::uint64_t pairs() const noexcept { return pairs_; }

private:
    /// One end of a spliced pair, indexed by its handle's slot.
    struct Side {
        Conn self;
        Conn peer;
        std::uint32_t backend = 0;
        bool live = false;
        bool is_backend = false;
        bool connected = false;
        bool fin_in = false; // this side's peer sent its FIN
        bool owe_fin =
            false; // the other side's FIN came and its data all went across: shut this one
        bool shut_out = false; // this side's write half is shut
        Buffer pending;        // taken from the other side, not yet accepted here
    };

    Side* side_of(Conn c) noexcept;
    Side& make_side(Conn c);
    void on_client(const Ready& r, time::Instant now);
    void on_ready(Side& s, const Ready& r, time::Instant now);
    /// Moves what `from` received to its peer, as far as the peer's send
    /// budget allows; owes the peer a FIN once from's FIN and data are across.
    void forward(Side& from);
    /// Sends what is pending on `to`, then the FIN it is owed, unless it has
    /// sent its own FIN with data not yet forwarded (shutting it would
    /// complete its close and lose that data).
    void push(Side& to);
    /// Both directions of s's pair, as far as they go now.
    void settle(Side& s);
    /// s ended: the other side is aborted when `why` is not normal, and a
    /// backend that never answered is marked down.
    void end(Side& s, CloseReason why, time::Instant now);
    /// s is done with: its counts drop.
    void retire(Side& s);

    Stack& stack_;
    const Options& o_;
    Picker picker_;
    std::vector<Side> sides_;
    BalancerStats stats_;
    std::uint64_t pairs_ = 0;
};

} // namespace synack::lb
