#pragma once
// The server side of synack-bench: accepts on its ports and, per
// connection, echoes what arrives, sinks it, or sources a stream, through
// the engine's zero-copy connection API.

#include "options.hpp"
#include "sha256.hpp"

#include <synack/engine/engine.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace synack::bench {

struct ServerStats {
    std::uint64_t accepted = 0;
    std::uint64_t closed = 0;
    std::uint64_t bytes_in = 0;
    std::uint64_t bytes_out = 0;
    std::uint64_t pattern_errors = 0; // sink: bytes that were not offset mod 251
};

class Server {
public:
    Server(engine::Engine& engine, const Options& options);
    /// What a server allocates when made for each of options.max_connections.
    static std::size_t bytes_per_connection(const Options& options) noexcept {
        return sizeof(Conn) + sizeof(std::uint32_t) + (options.sha256 ? sizeof(Sha256) : 0);
    }
    /// Accepts, handles events, reads and writes for every connection.
    void step() noexcept;
    /// Stops listening and closes every connection (SIGINT, SIGTERM, or the
    /// duration is over): FIN where all was read, RST where data was left unread.
    void close_all() noexcept;
    /// Resets what close_all() left still open after the grace period.
    void abort_all() noexcept;
    const ServerStats& stats() const noexcept { return stats_; }
    /// Sink with --sha256: the SHA-256 of the first streams this server (one
    /// per run loop) received whole, to their FIN, in the order they ended;
    /// at most max_digests.
    static constexpr std::size_t max_digests = 16;
    const std::vector<std::string>& digests() const noexcept { return digests_; }

private:
    struct Conn {
        engine::ConnId id;
        bool open = false;
        bool peer_closed = false;
        bool shut = false;
        std::uint64_t sent = 0;
        std::uint64_t received = 0;
    };
    void serve(Conn& c) noexcept;
    void echo(Conn& c) noexcept;
    void source(Conn& c) noexcept;
    void finish(Conn& c) noexcept;

    engine::Engine& engine_;
    const Options& options_;
    std::vector<Conn> conns_; // by ConnId::index
    std::vector<Sha256> hashes_; // by ConnId::index, with --sha256
    std::vector<std::string> digests_;
    std::vector<std::uint32_t> open_;
    ServerStats stats_;
};

} // namespace synack::bench
