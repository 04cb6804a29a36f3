#pragma once
// The client side of synack-bench, just what the interoperability tests
// need: open connections to an echo server (active open), send a stream on
// each, check that it comes back intact, and close (first, or after the
// server). The full benchmark modes come later.

#include "options.hpp"

#include <synack/api/stack.hpp>

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
    Client(Stack& stack, const Options& options, std::uint32_t connections);
    /// Opens the connections. Returns false when the stack refused one.
    bool start() noexcept;
    void step() noexcept;
    /// Every connection has ended.
    bool done() const noexcept { return stats_.completed + stats_.failed == conns_.size(); }
    const ClientStats& stats() const noexcept { return stats_; }

private:
    struct Stream {
        synack::Conn id;
        bool live = false;
        bool peer_closed = false;
        bool shut = false;
        std::uint64_t sent = 0;
        std::uint64_t received = 0;
        bool intact = true;
    };
    void serve(Stream& c) noexcept;

    Stack& stack_;
    const Options& options_;
    std::vector<Stream> conns_;
    ClientStats stats_;
};

} // namespace synack::bench
