#pragma once
// The benchmark's workloads, written once over a Stack (synack_stack.hpp:
// an engine; kernel_stack.hpp: Linux sockets and epoll), so that every
// figure compared with the kernel comes from the same code and the same
// histogram.
//
// Clients: rps (requests and responses over N connections, closed loop or
// open loop at a fixed rate), cps (connect, one request and response,
// close), bulk (goodput one way or both; with --bytes, that many bytes
// each way per connection, checked against the stream, then the
// connection ends). Servers: per listening port,
// echo, sink, source, rr, hold (ServerMode).
//
// A Stack offers, for a Handle naming a connection (stale ones detected):
//   std::size_t slot(Handle)              dense index for per-connection state
//   bool listen(port)                     false when it cannot
//   void accept_all(port, f(Handle))      each connection established on port
//   std::optional<Handle> connect()       to the target; nullopt: none now
//   void poll_events(f(Handle, StackEvent, bool clean))
//   std::uint32_t discard(Handle)         reads and drops what arrived
//   Checked check(Handle, offset, Sha256*) reads all that arrived, compares it with the stream
//   std::uint32_t write(Handle, offset, n) queues stream bytes; how many
//   std::uint32_t echo(Handle)            sends back what arrived; bytes echoed
//   void want_write(Handle, bool)         a writable event is wanted
//   void shutdown(Handle), close(Handle), abort(Handle)
// Events: readable and writable may come when nothing changed; closed
// comes only for a connection the workload has not closed (a reset, a
// timeout, a refused connect: clean is false), so the workload closes every
// connection itself once it is done with it.

#include "histogram.hpp"
#include "options.hpp"
#include "sha256.hpp"
#include "stream.hpp"

#include <algorithm>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace synack::bench {

enum class StackEvent : std::uint8_t { connected, readable, writable, peer_closed, closed };

/// Nanoseconds from the TSC (rte_get_tsc_cycles), one clock for every stack.
class NsClock {
public:
    NsClock();
    std::uint64_t now() const noexcept;

private:
    long double ns_per_cycle_;
    std::uint64_t origin_;
};

/// The intended send times of an open-loop client: request k is due at
/// start + k / rate, whatever happened to the ones before it (as wrk2
/// schedules), so a stall shows in the latency of every request it delayed
/// rather than in fewer requests (no coordinated omission).
class OpenLoopSchedule {
public:
    OpenLoopSchedule(double per_second, std::uint64_t start_ns) noexcept;
    /// The intended time of the next request if it is due at now, and
    /// counts it issued; nullopt when none is due yet.
    std::optional<std::uint64_t> due(std::uint64_t now_ns) noexcept;
    std::uint64_t issued() const noexcept { return issued_; }
    /// When the next request is due.
    std::uint64_t next() const noexcept { return at(issued_); }

private:
    std::uint64_t at(std::uint64_t k) const noexcept;
    long double interval_ns_;
    std::uint64_t start_;
    std::uint64_t issued_ = 0;
};

/// What a run loop's workload counted; summed over loops at the end.
struct WorkloadStats {
    std::uint64_t requests = 0;        // responses received whole (rps), connections done (cps)
    std::uint64_t bytes_in = 0;
    std::uint64_t bytes_out = 0;
    std::uint64_t connects = 0;        // connections the client opened
    std::uint64_t connect_errors = 0;  // connect() refused by the stack (no port, no slot)
    std::uint64_t failed = 0;          // reset, refused, timed out, or cut short
    std::uint64_t accepted = 0;        // server
    std::uint64_t closed = 0;          // server: connections ended
    std::uint64_t pattern_errors = 0;  // bytes that were not the stream where it is checked
    std::uint64_t schedule_backlog = 0; // open loop: requests due with no connection free, at the end
    WorkloadStats& operator+=(const WorkloadStats& o) noexcept;
};

/// The client side of a workload, on one run loop.
template <typename Stack>
class ClientWorkload {
public:
    using Handle = typename Stack::Handle;

    /// `connections`: this loop's share; `rate`: this loop's share of
    /// requests per second in open loop (0: closed loop).
    ClientWorkload(Stack& stack, const Options& o, std::uint32_t connections, double rate)
        : stack_(stack), o_(o), target_(connections), rate_(rate) {
        conns_.reserve(connections);
    }

    /// Opens the connections.
    void start(std::uint64_t now) {
        if (rate_ > 0) {
            schedule_.emplace(rate_, now);
        }
        open_more(now);
    }

    /// Handles what the stack reported, then sends what is due.
    void step(std::uint64_t now) {
        stack_.poll_events([&](Handle h, StackEvent e, bool clean) { on_event(h, e, clean, now); });
        if (schedule_ && !stopping_) {
            while (const auto t = schedule_->due(now)) {
                backlog_.push_back(*t);
            }
            while (!backlog_.empty() && !idle_.empty()) {
                Conn& c = conns_[idle_.back()];
                idle_.pop_back();
                c.queued_idle = false;
                // (The slot may hold a newer connection than the one queued.)
                if (c.live && c.connected && c.in_flight < c.intended.size()) {
                    issue(c, backlog_.front(), now);
                    backlog_.pop_front();
                    mark_idle_if_room(c);
                }
            }
        }
        if (!stopping_ && open_ + finished_ < target_) {
            open_more(now); // cps: one ended; or a connect was refused for want of a port
        }
    }

    /// Stops issuing requests and opening connections; closes what is open.
    void stop() {
        stopping_ = true;
        for (std::size_t i = 0; i < conns_.size(); ++i) {
            Conn& c = conns_[i];
            if (c.live) {
                stack_.abort(c.h);
                c.live = false;
            }
        }
        open_ = 0;
    }

    /// Forgets what was counted (after the warm-up).
    void reset_stats() {
        stats_ = WorkloadStats{};
        latency_.reset();
    }
    WorkloadStats stats() const {
        WorkloadStats s = stats_;
        s.schedule_backlog = backlog_.size();
        return s;
    }
    const Histogram& latency() const noexcept { return latency_; }
    std::uint32_t open_connections() const noexcept { return open_; }
    /// Bulk with --bytes: every connection's transfer is over.
    bool transfers_done() const noexcept { return finished_ == target_; }
    /// Open loop: when the next request is due (now, if some wait for a
    /// connection); nullopt in closed loop.
    std::optional<std::uint64_t> next_due() const noexcept {
        if (!schedule_ || stopping_) {
            return std::nullopt;
        }
        return backlog_.empty() ? schedule_->next() : 0;
    }

private:
    struct Conn {
        Handle h{};
        bool live = false;
        bool connected = false;
        bool peer_closed = false;
        bool queued_idle = false;
        bool shut = false; // bulk: FIN sent after --bytes
        std::uint64_t started = 0;  // cps: when connect() was called
        std::uint64_t sent = 0;     // stream offset of what the stack took
        std::uint64_t owed = 0;     // request bytes not yet taken by the stack
        std::uint64_t partial = 0;  // bytes of the current response received
        std::uint64_t received = 0; // bytes received in all
        std::vector<std::uint64_t> intended; // intended send times of requests in flight, oldest first
        std::size_t head = 0;                // of intended, a ring of o.pipeline
        std::uint32_t in_flight = 0;
        std::uint32_t answered = 0; // cps: responses (0 or 1)
    };

    void open_more(std::uint64_t now) {
        // A few hundred a step: the server (on this lane, or the peer's)
        // accepts between steps, so no listen queue overflows and 100,000
        // connections open in a few hundred steps rather than one burst.
        for (std::uint32_t opened = 0; open_ + finished_ < target_ && opened < max_connects_per_step; ++opened) {
            const auto h = stack_.connect();
            if (!h) {
                ++stats_.connect_errors;
                return; // no port or slot now: the next step tries again
            }
            Conn& c = conn_of(*h);
            c = Conn{};
            c.h = *h;
            c.live = true;
            c.started = now;
            c.intended.assign(std::max<std::uint32_t>(o_.pipeline, 1), 0);
            ++open_;
            ++stats_.connects;
        }
    }

    Conn& conn_of(Handle h) {
        const std::size_t s = stack_.slot(h);
        if (s >= conns_.size()) {
            conns_.resize(std::max(s + 1, conns_.size() * 2));
        }
        return conns_[s];
    }

    void on_event(Handle h, StackEvent e, bool clean, std::uint64_t now) {
        Conn& c = conn_of(h);
        if (!c.live || !(c.h == h)) {
            return;
        }
        switch (e) {
        case StackEvent::connected:
            c.connected = true;
            on_connected(c, now);
            break;
        case StackEvent::readable: on_readable(c, now); break;
        case StackEvent::writable: flush(c); break;
        case StackEvent::peer_closed:
            c.peer_closed = true;
            on_readable(c, now);
            on_peer_closed(c, now);
            break;
        case StackEvent::closed:
            // Ended by the peer or the network, not by us.
            (void)clean;
            c.live = false;
            --open_;
            ++stats_.failed;
            break;
        }
    }

    void on_connected(Conn& c, std::uint64_t now) {
        switch (o_.workload) {
        case Workload::rps:
            if (!schedule_) {
                for (std::uint32_t i = 0; i < o_.pipeline; ++i) {
                    issue(c, now, now);
                }
            } else {
                mark_idle_if_room(c);
            }
            break;
        case Workload::cps: issue(c, c.started, now); break;
        case Workload::bulk:
            if (o_.direction != Direction::down) {
                // --bytes of the stream, then FIN; or as much as the stack
                // takes until the run ends.
                c.owed = o_.source_bytes != 0 ? o_.source_bytes : UINT64_MAX;
                flush(c);
            }
            break;
        case Workload::stream: break;
        }
    }

    /// Queues one request, intended at `intended`.
    void issue(Conn& c, std::uint64_t intended, std::uint64_t) {
        c.intended[(c.head + c.in_flight) % c.intended.size()] = intended;
        ++c.in_flight;
        c.owed += o_.request_size;
        flush(c);
    }

    void mark_idle_if_room(Conn& c) {
        if (schedule_ && !c.queued_idle && c.in_flight < o_.pipeline && c.live && c.connected) {
            idle_.push_back(static_cast<std::uint32_t>(stack_.slot(c.h)));
            c.queued_idle = true;
        }
    }

    void flush(Conn& c) {
        while (c.owed > 0) {
            const std::uint32_t want = static_cast<std::uint32_t>(std::min<std::uint64_t>(c.owed, 1U << 20));
            const std::uint32_t n = stack_.write(c.h, c.sent, want);
            c.sent += n;
            stats_.bytes_out += n;
            if (c.owed != UINT64_MAX) {
                c.owed -= n;
            }
            if (n < want) {
                stack_.want_write(c.h, true);
                return;
            }
        }
        stack_.want_write(c.h, false);
        if (o_.workload == Workload::bulk && o_.direction != Direction::down && !c.shut) {
            stack_.shutdown(c.h); // all of --bytes queued: FIN after it
            c.shut = true;
            end_transfer_if_over(c);
        }
    }

    /// Bulk with --bytes: once ours are queued (FIN after them) and the
    /// peer's have all come (its FIN), the connection is done.
    void end_transfer_if_over(Conn& c) {
        if (c.live && c.peer_closed && (c.shut || o_.direction == Direction::down)) {
            stack_.close(c.h);
            c.live = false;
            --open_;
            ++stats_.requests;
            ++finished_;
        }
    }

    void on_readable(Conn& c, std::uint64_t now) {
        if (o_.workload == Workload::bulk) {
            // Checked against the stream: bulk down is also a test of the path.
            const Checked got = stack_.check(c.h, c.received, nullptr);
            c.received += got.bytes;
            stats_.bytes_in += got.bytes;
            stats_.pattern_errors += got.errors;
            return;
        }
        const std::uint32_t n = stack_.discard(c.h);
        c.received += n;
        stats_.bytes_in += n;
        c.partial += n;
        while (c.in_flight > 0 && c.partial >= o_.response_size) {
            c.partial -= o_.response_size;
            const std::uint64_t intended = c.intended[c.head];
            c.head = (c.head + 1) % c.intended.size();
            --c.in_flight;
            latency_.record(now - intended);
            ++stats_.requests;
            if (o_.workload == Workload::cps) {
                ++c.answered;
                if (o_.client_closes) {
                    finish(c);
                    return;
                }
            } else if (!stopping_ && !schedule_) {
                issue(c, now, now);
            } else {
                mark_idle_if_room(c);
            }
        }
    }

    void on_peer_closed(Conn& c, std::uint64_t) {
        if (!c.live) {
            return;
        }
        if (o_.workload == Workload::cps && c.answered > 0) {
            finish(c);
            return;
        }
        if (o_.workload == Workload::bulk && o_.source_bytes != 0) {
            end_transfer_if_over(c); // or when the last of ours is queued
            return;
        }
        // The server ended a connection the workload still wanted.
        stack_.close(c.h);
        c.live = false;
        --open_;
        ++stats_.failed;
    }

    /// cps: the exchange is done; close, and a new connection replaces it.
    void finish(Conn& c) {
        stack_.close(c.h);
        c.live = false;
        --open_;
    }

    Stack& stack_;
    const Options& o_;
    std::uint32_t target_;
    double rate_;
    static constexpr std::uint32_t max_connects_per_step = 256;
    std::uint32_t open_ = 0;
    std::uint32_t finished_ = 0; // bulk with --bytes: connections whose transfer is over (not replaced)
    bool stopping_ = false;
    std::vector<Conn> conns_; // by slot
    std::optional<OpenLoopSchedule> schedule_;
    std::deque<std::uint64_t> backlog_; // open loop: intended times waiting for a connection
    std::vector<std::uint32_t> idle_;   // open loop: slots with a request slot free
    WorkloadStats stats_;
    Histogram latency_;
};

/// The server side of a workload, on one run loop: each listening port
/// serves its own mode.
template <typename Stack>
class ServerWorkload {
public:
    using Handle = typename Stack::Handle;

    ServerWorkload(Stack& stack, const Options& o) : stack_(stack), o_(o) {}

    /// Listens on every port of o.listen. Returns the port it could not listen on.
    std::optional<std::uint16_t> start() {
        for (const ListenSpec& l : o_.listen) {
            if (!stack_.listen(l.port)) {
                return l.port;
            }
        }
        return std::nullopt;
    }

    void step(std::uint64_t) {
        for (const ListenSpec& l : o_.listen) {
            stack_.accept_all(l.port, [&](Handle h) { on_accept(h, l.mode); });
        }
        stack_.poll_events([&](Handle h, StackEvent e, bool clean) { on_event(h, e, clean); });
    }

    /// Stops listening (a SYN now gets a RST) and closes every connection:
    /// FIN where all was read, RST otherwise.
    void close_all() {
        for (const ListenSpec& l : o_.listen) {
            stack_.unlisten(l.port);
        }
        for (std::size_t i = 0; i < conns_.size(); ++i) {
            Conn& c = conns_[i];
            if (c.live) {
                stack_.close(c.h);
                c.live = false;
                ++stats_.closed;
            }
        }
    }

    /// Resets what close_all() left open (after a grace period).
    void abort_all() {
        for (std::size_t i = 0; i < conns_.size(); ++i) {
            if (conns_[i].live) {
                stack_.abort(conns_[i].h);
                conns_[i].live = false;
            }
        }
    }

    void reset_stats() { stats_ = WorkloadStats{}; }
    const WorkloadStats& stats() const noexcept { return stats_; }
    /// What the server keeps per connection (it grows to the most open at once).
    static constexpr std::size_t bytes_per_connection() noexcept { return sizeof(Conn); }
    /// Sink: the SHA-256 of the first streams received whole (with --sha256).
    static constexpr std::size_t max_digests = 16;
    const std::vector<std::string>& digests() const noexcept { return digests_; }

private:
    struct Conn {
        Handle h{};
        ServerMode mode = ServerMode::echo;
        bool live = false;
        bool peer_closed = false;
        bool shut = false;
        std::uint64_t sent = 0;
        std::uint64_t owed = 0;     // rr: response bytes not yet taken by the stack
        std::uint64_t partial = 0;  // rr: bytes of the current request
        std::uint64_t received = 0;
        std::optional<Sha256> hash;
    };

    Conn& conn_of(Handle h) {
        const std::size_t s = stack_.slot(h);
        if (s >= conns_.size()) {
            conns_.resize(std::max(s + 1, conns_.size() * 2));
        }
        return conns_[s];
    }

    void on_accept(Handle h, ServerMode mode) {
        Conn& c = conn_of(h);
        c = Conn{};
        c.h = h;
        c.mode = mode;
        c.live = true;
        if (mode == ServerMode::sink && o_.sha256) {
            c.hash.emplace();
        }
        ++stats_.accepted;
        serve(c);
    }

    void on_event(Handle h, StackEvent e, bool) {
        Conn& c = conn_of(h);
        if (!c.live || !(c.h == h)) {
            return;
        }
        if (e == StackEvent::closed) {
            c.live = false;
            ++stats_.closed;
            return;
        }
        if (e == StackEvent::peer_closed) {
            c.peer_closed = true;
        }
        serve(c);
    }

    void serve(Conn& c) {
        switch (c.mode) {
        case ServerMode::echo: {
            const std::uint32_t n = stack_.echo(c.h);
            stats_.bytes_in += n;
            stats_.bytes_out += n;
            break;
        }
        case ServerMode::sink: {
            const Checked got = stack_.check(c.h, c.received, c.hash ? &*c.hash : nullptr);
            c.received += got.bytes;
            stats_.bytes_in += got.bytes;
            stats_.pattern_errors += got.errors;
            break;
        }
        case ServerMode::rr: {
            const std::uint32_t n = stack_.discard(c.h);
            stats_.bytes_in += n;
            c.partial += n;
            const std::uint64_t whole = c.partial / o_.request_size;
            c.partial -= whole * o_.request_size;
            c.owed += whole * o_.response_size;
            flush(c);
            break;
        }
        case ServerMode::source:
            stats_.bytes_in += stack_.discard(c.h);
            if (!c.peer_closed) {
                flush(c);
            }
            break;
        case ServerMode::hold: break;
        }
        finish(c);
    }

    void flush(Conn& c) {
        for (;;) {
            std::uint64_t want = c.owed;
            if (c.mode == ServerMode::source) {
                want = o_.source_bytes == 0 ? 1U << 20 : o_.source_bytes - c.sent;
            }
            if (want == 0) {
                stack_.want_write(c.h, false);
                return;
            }
            const auto ask = static_cast<std::uint32_t>(std::min<std::uint64_t>(want, 1U << 20));
            const std::uint32_t n = stack_.write(c.h, c.sent, ask);
            c.sent += n;
            stats_.bytes_out += n;
            if (c.mode == ServerMode::rr) {
                c.owed -= n;
            }
            if (n < ask) {
                stack_.want_write(c.h, true);
                return;
            }
        }
    }

    void finish(Conn& c) {
        if (c.mode == ServerMode::source && o_.source_bytes != 0 && c.sent >= o_.source_bytes && !c.shut) {
            stack_.shutdown(c.h); // the stream ends: FIN after the data
            c.shut = true;
        }
        const bool answered = c.mode == ServerMode::rr && !o_.client_closes && c.sent > 0 && c.owed == 0;
        if (answered) {
            // cps with --close-first server: one answer, then FIN.
            c.peer_closed = true;
        }
        if (!c.peer_closed) {
            return;
        }
        const bool sending = (c.mode == ServerMode::rr && c.owed > 0) ||
                             (c.mode == ServerMode::source && !c.shut && o_.source_bytes != 0) ||
                             (c.mode == ServerMode::echo && stack_.unsent_echo(c.h));
        if (sending) {
            return;
        }
        if (c.hash && digests_.size() < max_digests) {
            digests_.push_back(c.hash->hex()); // the whole stream, to its FIN
        }
        stack_.close(c.h);
        c.live = false;
        ++stats_.closed;
    }

    Stack& stack_;
    const Options& o_;
    std::vector<Conn> conns_; // by slot
    std::vector<std::string> digests_;
    WorkloadStats stats_;
};

} // namespace synack::bench
