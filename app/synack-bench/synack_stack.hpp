#pragma once
// The workloads' Stack (workload.hpp) over one synack engine: reads in
// place from the mbufs that arrived, writes into mbufs from the engine's
// pool, events from the engine's queue.

#include "stream.hpp"
#include "workload.hpp"

#include <synack/engine/engine.hpp>
#include <synack/time/clock.hpp>

#include <cstdint>
#include <optional>
#include <vector>

namespace synack::bench {

class SynackStack {
public:
    using Handle = engine::ConnId;

    /// Connections go to target_ip, at its ports in turn (one peer port
    /// offers only the ephemeral range's 28,232 connections); the clock
    /// gives the engine's time.
    SynackStack(engine::Engine& engine, const time::Clock& clock, wire::Ipv4Addr target_ip = {},
                std::vector<std::uint16_t> target_ports = {})
        : engine_(engine), clock_(clock), target_ip_(target_ip), target_ports_(std::move(target_ports)) {}

    static std::size_t slot(Handle h) noexcept { return h.index; }

    bool listen(std::uint16_t port) noexcept { return engine_.listen(port).ok(); }
    void unlisten(std::uint16_t port) noexcept { engine_.unlisten(port); }

    template <typename F>
    void accept_all(std::uint16_t port, F&& f) {
        while (const auto id = engine_.accept(port)) {
            engine_.set_nagle(*id, false);
            f(*id);
        }
    }

    std::optional<Handle> connect() noexcept {
        const std::uint16_t port = target_ports_[next_port_];
        next_port_ = (next_port_ + 1) % target_ports_.size();
        auto id = engine_.connect(target_ip_, port, clock_.now());
        if (!id.ok()) {
            return std::nullopt;
        }
        engine_.set_nagle(*id, false);
        return *id;
    }

    template <typename F>
    void poll_events(F&& f) {
        // Writes cut short by an empty pool get no event from the engine
        // (its send buffer had room): they are told writable on the next step.
        if (!starved_.empty()) {
            retry_.swap(starved_);
            for (const Handle h : retry_) {
                f(h, StackEvent::writable, true);
            }
            retry_.clear();
        }
        engine::Event events[64];
        while (const std::size_t n = engine_.events(events, 64)) {
            for (std::size_t i = 0; i < n; ++i) {
                const engine::Event& e = events[i];
                f(e.conn, to_stack_event(e.kind), e.reason == tcp::CloseReason::normal);
            }
        }
    }

    std::uint32_t discard(Handle h) noexcept {
        const std::uint32_t n = engine_.readable(h);
        engine_.consume(h, n);
        return n;
    }

    /// Reads all that arrived (read_stream takes a few spans at a time).
    Checked check(Handle h, std::uint64_t offset, Sha256* hash) noexcept {
        Checked all;
        for (;;) {
            const Checked got = read_stream(engine_, h, offset + all.bytes, hash);
            if (got.bytes == 0) {
                return all;
            }
            all.bytes += got.bytes;
            all.errors += got.errors;
        }
    }

    std::uint32_t write(Handle h, std::uint64_t offset, std::uint32_t n) noexcept {
        const std::uint64_t sent = send_stream(engine_, h, offset, offset + n);
        if (sent < n && engine_.writable(h) > 0) {
            starved_.push_back(h);
        }
        return static_cast<std::uint32_t>(sent);
    }

    std::uint32_t echo(Handle h) noexcept {
        const std::uint32_t n = echo_stream(engine_, h);
        if (engine_.readable(h) > 0 && engine_.writable(h) > 0) {
            starved_.push_back(h);
        }
        return n;
    }
    bool unsent_echo(Handle h) noexcept { return engine_.readable(h) > 0; }

    void want_write(Handle, bool) noexcept {} // the engine tells when room returns
    void shutdown(Handle h) noexcept { engine_.shutdown(h); }
    void close(Handle h) noexcept { engine_.close(h); }
    void abort(Handle h) noexcept {
        if (engine_.state(h)) {
            engine_.abort(h);
        }
    }

    engine::Engine& engine() noexcept { return engine_; }

private:
    static StackEvent to_stack_event(tcp::ConnEvent e) noexcept {
        switch (e) {
        case tcp::ConnEvent::connected: return StackEvent::connected;
        case tcp::ConnEvent::readable: return StackEvent::readable;
        case tcp::ConnEvent::writable: return StackEvent::writable;
        case tcp::ConnEvent::peer_closed: return StackEvent::peer_closed;
        case tcp::ConnEvent::closed: return StackEvent::closed;
        }
        return StackEvent::readable;
    }

    engine::Engine& engine_;
    const time::Clock& clock_;
    wire::Ipv4Addr target_ip_;
    std::vector<std::uint16_t> target_ports_;
    std::size_t next_port_ = 0;
    std::vector<Handle> starved_;
    std::vector<Handle> retry_;
};

} // namespace synack::bench
