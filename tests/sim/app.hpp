#pragma once
// The simulation's applications: endpoints that send a deterministic byte
// stream, read and check what arrives, and close as a scenario's policy says.
// They use the engine's application API exactly as a real program would:
// accept, events, peek/consume, send, shutdown, abort.

#include "sim/world.hpp"

#include <deque>
#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace synack::sim {

/// The byte at `offset` of the stream named `key`.
inline std::uint8_t stream_byte(std::uint64_t key, std::uint64_t offset) noexcept {
    return static_cast<std::uint8_t>(mix64(key + (offset >> 3)) >> ((offset & 7) * 8));
}

/// Bytes [offset, offset + n) of the stream `key` into out, as stream_byte
/// gives them, one mix per eight bytes.
inline void fill_stream(std::uint64_t key, std::uint64_t offset, std::uint8_t* out,
                        std::size_t n) noexcept {
    for (std::size_t i = 0; i < n;) {
        const std::uint64_t word = mix64(key + ((offset + i) >> 3));
        for (auto b = static_cast<unsigned>((offset + i) & 7); b < 8 && i < n; ++b, ++i) {
            out[i] = static_cast<std::uint8_t>(word >> (b * 8));
        }
    }
}

/// A running FNV-1a hash and length of a byte stream, with the first byte
/// that differs from the stream expected, if any.
struct StreamTally {
    std::uint64_t bytes = 0;
    std::uint64_t hash = 0xcbf29ce484222325ULL;
    std::optional<std::uint64_t> first_bad;

    void add(std::uint8_t byte, std::uint8_t expected) noexcept {
        if (byte != expected && !first_bad) {
            first_bad = bytes;
        }
        hash = (hash ^ byte) * 0x100000001b3ULL;
        ++bytes;
    }
};

inline constexpr unsigned reason_bit(tcp::CloseReason r) noexcept { return 1u << static_cast<unsigned>(r); }

/// What one endpoint does.
struct Policy {
    enum class Shutdown : std::uint8_t {
        when_sent,       // FIN once everything is sent (echo: once the peer's FIN came and all is echoed)
        after_peer_fin,  // FIN once the peer's FIN came, everything is read and sent
        never,           // the connection ends by reset or timeout
    };
    std::uint64_t send_bytes = 0;     // of our own stream
    bool echo = false;                // send back what arrives instead
    bool expect_echo = false;         // what arrives is our own stream, echoed
    bool send_after_peer_fin = false; // hold our data until the peer's FIN (half-close)
    Shutdown shutdown = Shutdown::when_sent;
    /// Instead: close once the peer's FIN came and everything is read and
    /// sent; the engine finishes the connection alone.
    bool close = false;
    std::uint64_t abort_after = UINT64_MAX; // abort once this many bytes arrived
    std::uint32_t read_chunk = UINT32_MAX;  // a slow reader reads this much ...
    time::Duration read_every;               // ... this often
    time::Instant hold_until;                // and reads nothing before this
    bool nagle = true;
    unsigned expect_reasons = reason_bit(tcp::CloseReason::normal);
    /// The peer is no engine's application (a peer spoken by hand): the
    /// scenario checks the streams.
    bool raw_peer = false;
};

/// One end of one connection.
struct Endpoint {
    bool on_a = false;
    engine::ConnId id;
    Policy policy;
    std::uint16_t local_port = 0;
    std::uint16_t remote_port = 0;
    std::uint64_t out_key = 0;
    std::uint64_t in_key = 0;
    StreamTally sent;
    StreamTally received;
    bool connected = false;
    bool peer_closed = false;
    bool shut = false;
    bool aborted = false;
    bool blocked = false; // the send buffer was full: wait for the writable event
    bool closed = false;
    tcp::CloseReason reason = tcp::CloseReason::normal;
    time::Instant next_read;
    std::string trace_name() const;
};

/// The applications on both engines of a world.
class App {
public:
    App(World& w, std::uint64_t seed, bool verbose) : w_(w), seed_(seed), verbose_(verbose) {}

    /// Serves port on engine A or B: each accepted connection gets policy(remote port).
    void listen(bool on_a, std::uint16_t port, std::function<Policy(std::uint16_t)> policy);
    /// Opens a connection from A or B to the other engine.
    Endpoint* connect(bool on_a, std::uint16_t port, const Policy& policy, std::uint16_t local_port = 0);
    /// Opens a connection from A or B to any address (a host the adversary plays).
    Endpoint* connect_to(bool on_a, wire::Ipv4Addr dst, std::uint16_t port, const Policy& policy);
    /// The application aborts the connection (RST, RFC 9293 section 3.10.5).
    void abort(Endpoint& ep);

    /// Accepts, handles events, reads and writes. Returns whether anything changed.
    bool step();
    /// When a slow reader next reads.
    std::optional<time::Instant> wakeup() const;
    /// Every endpoint closed.
    bool all_closed() const;
    /// Checks the byte streams between matching endpoints and each close reason.
    void check(std::vector<std::string>& failures) const;

    std::deque<Endpoint>& endpoints() { return endpoints_; }
    /// When an application last read a byte.
    time::Instant last_read() const noexcept { return last_read_; }
    engine::Engine& engine_of(bool on_a) { return on_a ? w_.a : w_.b; }
    /// The key of the stream sent from from_port to to_port (stream_byte).
    std::uint64_t stream_key(std::uint16_t from_port, std::uint16_t to_port) const noexcept;

private:
    struct Listener {
        bool on_a;
        std::uint16_t port;
        std::function<Policy(std::uint16_t)> policy;
    };
    Endpoint& add(bool on_a, engine::ConnId id, const Policy& p);
    void handle(const engine::Event& ev, bool on_a);
    bool step(Endpoint& ep);
    bool read(Endpoint& ep, engine::Engine& e);
    bool write(Endpoint& ep, engine::Engine& e);
    void trace(const Endpoint& ep, const std::string& what) const;

    World& w_;
    std::uint64_t seed_;
    bool verbose_;
    time::Instant last_read_;
    std::vector<Listener> listeners_;
    std::deque<Endpoint> endpoints_;
    // (on A, slot index, generation) of the open ones. The generation is part
    // of the key: a slot freed while its closed event is still queued may be
    // taken by the next connect() before the application reads that event.
    std::map<std::tuple<bool, std::uint32_t, std::uint32_t>, Endpoint*> by_id_;
};

} // namespace synack::sim
