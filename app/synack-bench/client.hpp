#pragma once
// The client side of synack-bench, just what the interoperability tests
// need: open connections to an echo server (active open), send a stream on
// each, check that it comes back intact, and close (first, or after the
// server). The full benchmark modes come later.

#include "options.hpp"

#include <synack/engine/engine.hpp>

#include <cstdint>
#include <vector>

namespace synack::bench {

struct ClientStats {
    std::uint32_t connected = 0;
    std::uint32_t completed = 0; // stream echoed intact and closed normally
    std::uint32_t failed = 0;    // refused, reset, timed out, or the echo differed
    std::uint64_t bytes_out = 0;
    std::uint64_t bytes_in = 0;
    std::uint64_t echo_errors = 0; // bytes that came back different
};

class Client {
public:
    /// A client of `connections` connections (its run loop's share).
    Client(engine::Engine& engine, const Options& options, std::uint32_t connections);
    /// Opens the connections. Returns false when the engine refused one.
    bool start(time::Instant now) noexcept;
    void step() noexcept;
    /// Every connection has ended.
    bool done() const noexcept { return stats_.completed + stats_.failed == conns_.size(); }
    const ClientStats& stats() const noexcept { return stats_; }

private:
    struct Conn {
        engine::ConnId id;
        bool live = false;
        bool peer_closed = false;
        bool shut = false;
        std::uint64_t sent = 0;
        std::uint64_t received = 0;
        bool intact = true;
    };
    void serve(Conn& c) noexcept;

    engine::Engine& engine_;
    const Options& options_;
    std::vector<Conn> conns_;
    ClientStats stats_;
};

} // namespace synack::bench
