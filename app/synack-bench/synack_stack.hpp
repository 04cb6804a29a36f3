#pragma once
// The workloads' Stack (workload.hpp) over one synack Stack (the public
// API): reads in place from the mbufs that arrived, writes into mbufs from
// its pool, events from its ready list.

#include "stream.hpp"
#include "workload.hpp"

#include <synack/api/stack.hpp>
#include <synack/engine/engine.hpp>
#include <synack/time/clock.hpp>

#include <cstdint>
#include <optional>
#include <vector>

namespace synack::bench {

class SynackStack {
public:
    using Handle = Conn;

    /// Connections go to target_ip, at its ports in turn (one peer port
    /// offers only the ephemeral range's 28,232 connections).
    explicit SynackStack(Stack& stack, wire::Ipv4Addr target_ip = {},
                         std::vector<std::uint16_t> target_ports = {})
        : stack_(stack), target_ip_(target_ip), target_ports_(std::move(target_ports)) {}

    static std::size_t slot(Handle h) noexcept { return h.index; }

    bool listen(std::uint16_t port) noexcept { return stack_.listen(port).ok(); }
    void unlisten(std::uint16_t port) noexcept { stack_.unlisten(port); }

    /// Passive opens come on the ready list: the step's list is taken here
    /// (the workloads accept before they handle events), and handed out in
    /// poll_events().
    template <typename F>
    void accept_all(std::uint16_t port, F&& f) {
        take_ready();
        for (const Ready& r : ready_) {
            if (r.has(ready::connected) && r.listen_port == port) {
                (void)stack_.set_no_delay(r.conn, true);
                f(r.conn);
            }
        }
    }

    std::optional<Handle> connect() noexcept {
        const std::uint16_t port = target_ports_[next_port_];
        next_port_ = (next_port_ + 1) % target_ports_.size();
        auto id = stack_.connect(target_ip_, port);
        if (!id.ok()) {
            return std::nullopt;
        }
        (void)stack_.set_no_delay(*id, true);
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
        take_ready();
        for (const Ready& r : ready_) {
            // In the order they happen to a connection; closed last, after
            // which the handle is stale.
            for (const auto& [bit, e] : {std::pair{ready::connected, StackEvent::connected},
                                         std::pair{ready::readable, StackEvent::readable},
                                         std::pair{ready::writable, StackEvent::writable},
                                         std::pair{ready::peer_closed, StackEvent::peer_closed},
                                         std::pair{ready::closed, StackEvent::closed}}) {
                if (r.has(bit)) {
                    f(r.conn, e, r.reason == CloseReason::normal);
                }
            }
        }
        ready_.clear();
    }

    std::uint32_t discard(Handle h) noexcept {
        const std::uint32_t n = stack_.readable(h);
        (void)stack_.consume(h, n);
        return n;
    }

    /// Reads all that arrived (read_stream takes a few spans at a time).
    Checked check(Handle h, std::uint64_t offset, Sha256* hash) noexcept {
        Checked all;
        for (;;) {
            const Checked got = read_stream(stack_, h, offset + all.bytes, hash);
            if (got.bytes == 0) {
                return all;
            }
            all.bytes += got.bytes;
            all.errors += got.errors;
        }
    }

    std::uint32_t write(Handle h, std::uint64_t offset, std::uint32_t n) noexcept {
        const std::uint64_t sent = send_stream(stack_, h, offset, offset + n);
        if (sent < n && stack_.writable(h) > 0) {
            starved_.push_back(h);
        }
        return static_cast<std::uint32_t>(sent);
    }

    std::uint32_t echo(Handle h) noexcept {
        const std::uint32_t n = echo_stream(stack_, h);
        if (stack_.readable(h) > 0 && stack_.writable(h) > 0) {
            starved_.push_back(h);
        }
        return n;
    }
    bool unsent_echo(Handle h) noexcept { return stack_.readable(h) > 0; }

    void want_write(Handle, bool) noexcept {} // the engine tells when room returns
    void shutdown(Handle h) noexcept { (void)stack_.shutdown(h); }
    void close(Handle h) noexcept { (void)stack_.close(h); }
    void abort(Handle h) noexcept { (void)stack_.abort(h); }

    /// The engine, for its counters (not in the public API yet).
    engine::Engine& engine() noexcept { return stack_.engine(); }

private:
    /// The step's ready list, once per step.
    void take_ready() {
        if (!ready_.empty()) {
            return;
        }
        Ready batch[64];
        while (const std::size_t n = stack_.ready(batch, 64)) {
            ready_.insert(ready_.end(), batch, batch + n);
        }
    }

    Stack& stack_;
    std::vector<Ready> ready_;
    wire::Ipv4Addr target_ip_;
    std::vector<std::uint16_t> target_ports_;
    std::size_t next_port_ = 0;
    std::vector<Handle> starved_;
    std::vector<Handle> retry_;
};

} // namespace synack::bench
