#pragma once
// The workloads' Stack (workload.hpp) over Linux sockets: non-blocking,
// TCP_NODELAY, one epoll instance per run loop (level-triggered), listeners
// with SO_REUSEPORT so that each loop accepts its own share. What synack
// is compared with runs this, on the same workload code.

#include "sha256.hpp"
#include "stream.hpp"
#include "workload.hpp"

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace synack::bench {

class KernelStack {
public:
    /// A connection: its descriptor, and which use of that descriptor
    /// (descriptors are reused at once; the generation tells them apart).
    struct Handle {
        int fd = -1;
        std::uint32_t generation = 0;
        bool operator==(const Handle&) const noexcept = default;
    };

    /// Connections go to target_ip at its ports in turn (host byte order); listeners
    /// bind to bind_ip (0: any).
    KernelStack(std::uint32_t bind_ip, std::uint32_t target_ip, std::vector<std::uint16_t> target_ports);
    ~KernelStack();
    KernelStack(const KernelStack&) = delete;
    KernelStack& operator=(const KernelStack&) = delete;

    /// Why the stack could not start (epoll_create), or empty.
    const std::string& error() const noexcept { return error_; }

    /// The epoll descriptor: readable when there are events.
    int wait_fd() const noexcept { return epoll_; }
    /// Whether the last poll_events() found any.
    bool worked() const noexcept { return last_events_ != 0; }

    static std::size_t slot(Handle h) noexcept { return static_cast<std::size_t>(h.fd); }

    bool listen(std::uint16_t port);
    void unlisten(std::uint16_t port);

    template <typename F>
    void accept_all(std::uint16_t port, F&& f) {
        for (Listener& l : listeners_) {
            if (l.port == port && l.ready && l.fd >= 0) {
                l.ready = false;
                while (const auto h = accept_one(l.fd)) {
                    f(*h);
                }
            }
        }
    }

    std::optional<Handle> connect();

    template <typename F>
    void poll_events(F&& f) {
        const int n = wait();
        last_events_ = n;
        for (int i = 0; i < n; ++i) {
            const std::uint64_t tag = events_[i].data;
            const std::uint32_t flags = events_[i].flags;
            if (tag >> 63 != 0) { // a listener
                listeners_[tag & 0xffff].ready = true;
                continue;
            }
            const Handle h{static_cast<int>(tag & 0xffffffff), static_cast<std::uint32_t>(tag >> 32)};
            dispatch(h, flags, f);
        }
        // Ends noticed while reading or writing (an EOF, a reset).
        while (!ended_.empty()) {
            const Ended e = ended_.back();
            ended_.pop_back();
            if (current(e.h)) {
                if (e.reset) {
                    forget(e.h);
                    f(e.h, StackEvent::closed, false);
                } else {
                    f(e.h, StackEvent::peer_closed, true);
                }
            }
        }
    }

    std::uint32_t discard(Handle h);
    Checked check(Handle h, std::uint64_t offset, Sha256* hash);
    std::uint32_t write(Handle h, std::uint64_t offset, std::uint32_t n);
    std::uint32_t echo(Handle h);
    bool unsent_echo(Handle h) const noexcept { return !state(h.fd).pending.empty(); }
    void want_write(Handle h, bool on);
    void shutdown(Handle h);
    void close(Handle h);
    void abort(Handle h);

private:
    struct Conn {
        std::uint32_t generation = 0;
        bool open = false;
        bool connecting = false;
        bool eof_seen = false;
        bool want_write = false;
        bool reading = true; // EPOLLIN wanted (off while an echo waits to send)
        std::uint32_t interest = 0;
        std::vector<std::uint8_t> pending; // echo: received, not yet sent back
    };
    struct Listener {
        int fd = -1;
        std::uint16_t port = 0;
        bool ready = false;
    };
    struct Event {
        std::uint64_t data;
        std::uint32_t flags;
    };
    struct Ended {
        Handle h;
        bool reset;
    };

    template <typename F>
    void dispatch(Handle h, std::uint32_t flags, F& f) {
        if (!current(h)) {
            return; // closed earlier in this batch
        }
        if (state(h.fd).connecting) {
            if (!finish_connect(h)) {
                forget(h);
                f(h, StackEvent::closed, false);
                return;
            }
            f(h, StackEvent::connected, true);
            if (!current(h)) {
                return;
            }
        }
        // State is looked up again after each call: f may open connections,
        // which can move the table.
        if ((flags & in_flags()) != 0 && state(h.fd).reading) {
            f(h, StackEvent::readable, true);
        }
        if (current(h) && (flags & out_flag()) != 0 && state(h.fd).want_write) {
            f(h, StackEvent::writable, true);
        }
    }

    static std::uint32_t in_flags() noexcept;
    static std::uint32_t out_flag() noexcept;
    int wait();
    std::optional<Handle> accept_one(int listen_fd);
    std::optional<Handle> adopt(int fd, bool connecting);
    bool finish_connect(Handle h);
    bool current(Handle h) const noexcept {
        return h.fd >= 0 && static_cast<std::size_t>(h.fd) < conns_.size() && conns_[h.fd].open &&
               conns_[h.fd].generation == h.generation;
    }
    Conn& state(int fd) { return conns_[static_cast<std::size_t>(fd)]; }
    const Conn& state(int fd) const { return conns_[static_cast<std::size_t>(fd)]; }
    void set_interest(Handle h);
    /// An error or EOF seen by a read or a write: told after the batch.
    void ended(Handle h, bool reset);
    /// What a recv() that returned n <= 0 means: EOF, nothing now, or an error.
    void recv_stopped(Handle h, ssize_t n);
    /// Closes the descriptor; no more events for h.
    void forget(Handle h);

    int epoll_ = -1;
    int last_events_ = 0;
    std::string error_;
    std::uint32_t bind_ip_;
    std::uint32_t target_ip_;
    std::vector<std::uint16_t> target_ports_;
    std::size_t next_port_ = 0;
    std::vector<Conn> conns_; // by descriptor
    std::vector<Listener> listeners_;
    std::vector<Event> events_;
    std::vector<Ended> ended_;
    std::vector<std::uint8_t> scratch_;
};

} // namespace synack::bench
