#include "kernel_stack.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

namespace synack::bench {

namespace {

constexpr int max_events = 256;
constexpr std::size_t scratch_bytes = 64 * 1024;
// An echo holds at most this much that the kernel would not take yet.
constexpr std::size_t echo_buffer = 64 * 1024;

sockaddr_in address(std::uint32_t ip, std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(ip);
    a.sin_port = htons(port);
    return a;
}

void no_delay(int fd) {
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

} // namespace

std::uint32_t KernelStack::in_flags() noexcept { return EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR; }
std::uint32_t KernelStack::out_flag() noexcept { return EPOLLOUT; }

KernelStack::KernelStack(std::uint32_t bind_ip, std::uint32_t target_ip, std::vector<std::uint16_t> target_ports)
    : bind_ip_(bind_ip), target_ip_(target_ip), target_ports_(std::move(target_ports)), events_(max_events),
      scratch_(scratch_bytes) {
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) {
        error_ = std::string("epoll_create1: ") + std::strerror(errno);
    }
}

KernelStack::~KernelStack() {
    for (std::size_t fd = 0; fd < conns_.size(); ++fd) {
        if (conns_[fd].open) {
            ::close(static_cast<int>(fd));
        }
    }
    for (const Listener& l : listeners_) {
        if (l.fd >= 0) {
            ::close(l.fd);
        }
    }
    if (epoll_ >= 0) {
        ::close(epoll_);
    }
}

bool KernelStack::listen(std::uint16_t port) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return false;
    }
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    const sockaddr_in a = address(bind_ip_, port);
    if (bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 65535) != 0) {
        ::close(fd);
        return false;
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = (std::uint64_t{1} << 63) | listeners_.size();
    if (epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev) != 0) {
        ::close(fd);
        return false;
    }
    listeners_.push_back(Listener{fd, port, false});
    return true;
}

void KernelStack::unlisten(std::uint16_t port) {
    for (Listener& l : listeners_) {
        if (l.port == port && l.fd >= 0) {
            ::close(l.fd);
            l.fd = -1;
            l.ready = false;
        }
    }
}

std::optional<KernelStack::Handle> KernelStack::accept_one(int listen_fd) {
    for (;;) {
        const int fd = accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            no_delay(fd);
            if (auto h = adopt(fd, false)) {
                return h;
            }
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED) {
            continue;
        }
        return std::nullopt; // EAGAIN: no more now; EMFILE and the like: later
    }
}

std::optional<KernelStack::Handle> KernelStack::connect() {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return std::nullopt;
    }
    no_delay(fd);
    const sockaddr_in a = address(target_ip_, target_ports_[next_port_]);
    next_port_ = (next_port_ + 1) % target_ports_.size();
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0 && errno != EINPROGRESS) {
        ::close(fd); // EADDRNOTAVAIL: no port left; the workload tries again later
        return std::nullopt;
    }
    return adopt(fd, true);
}

std::optional<KernelStack::Handle> KernelStack::adopt(int fd, bool connecting) {
    if (static_cast<std::size_t>(fd) >= conns_.size()) {
        conns_.resize(std::max<std::size_t>(static_cast<std::size_t>(fd) + 1, conns_.size() * 2));
    }
    Conn& c = state(fd);
    const std::uint32_t generation = c.generation + 1;
    c = Conn{};
    c.generation = generation;
    c.open = true;
    c.connecting = connecting;
    c.want_write = connecting; // EPOLLOUT says the connect finished
    const Handle h{fd, generation};
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | (connecting ? std::uint32_t{EPOLLOUT} : 0U);
    ev.data.u64 = (std::uint64_t{generation} << 32) | static_cast<std::uint32_t>(fd);
    if (epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev) != 0) {
        c.open = false;
        ::close(fd);
        return std::nullopt;
    }
    c.interest = ev.events;
    return h;
}

bool KernelStack::finish_connect(Handle h) {
    Conn& c = state(h.fd);
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(h.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
        return false;
    }
    c.connecting = false;
    c.want_write = false;
    set_interest(h);
    return true;
}

int KernelStack::wait() {
    std::array<epoll_event, max_events> raw;
    const int n = epoll_wait(epoll_, raw.data(), max_events, 0);
    for (int i = 0; i < n; ++i) {
        events_[i] = Event{raw[i].data.u64, raw[i].events};
    }
    return std::max(n, 0);
}

void KernelStack::set_interest(Handle h) {
    Conn& c = state(h.fd);
    std::uint32_t want = EPOLLRDHUP;
    want |= c.reading && !c.eof_seen ? std::uint32_t{EPOLLIN} : 0U;
    want |= c.want_write || c.connecting ? std::uint32_t{EPOLLOUT} : 0U;
    if (want == c.interest) {
        return;
    }
    epoll_event ev{};
    ev.events = want;
    ev.data.u64 = (std::uint64_t{h.generation} << 32) | static_cast<std::uint32_t>(h.fd);
    epoll_ctl(epoll_, EPOLL_CTL_MOD, h.fd, &ev);
    c.interest = want;
}

void KernelStack::ended(Handle h, bool reset) {
    Conn& c = state(h.fd);
    if (!reset) {
        if (c.eof_seen) {
            return;
        }
        c.eof_seen = true;
        set_interest(h); // no more EPOLLIN: it would fire on the EOF for ever
    }
    ended_.push_back(Ended{h, reset});
}

void KernelStack::recv_stopped(Handle h, ssize_t n) {
    if (n == 0) {
        ended(h, false); // EOF
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        ended(h, true);
    }
}

std::uint32_t KernelStack::discard(Handle h) {
    if (!current(h)) {
        return 0;
    }
    std::uint32_t total = 0;
    for (;;) {
        const ssize_t n = recv(h.fd, scratch_.data(), scratch_.size(), MSG_DONTWAIT);
        if (n > 0) {
            total += static_cast<std::uint32_t>(n);
            if (static_cast<std::size_t>(n) < scratch_.size()) {
                return total;
            }
            continue;
        }
        recv_stopped(h, n);
        return total;
    }
}

Checked KernelStack::check(Handle h, std::uint64_t offset, Sha256* hash) {
    Checked c;
    if (!current(h)) {
        return c;
    }
    for (;;) {
        const ssize_t n = recv(h.fd, scratch_.data(), scratch_.size(), MSG_DONTWAIT);
        if (n <= 0) {
            recv_stopped(h, n);
            return c;
        }
        const wire::Bytes got(scratch_.data(), static_cast<std::size_t>(n));
        c.errors += stream_errors(got, offset);
        if (hash != nullptr) {
            hash->update(got);
        }
        offset += got.size();
        c.bytes += static_cast<std::uint32_t>(got.size());
    }
}

std::uint32_t KernelStack::write(Handle h, std::uint64_t offset, std::uint32_t n) {
    if (!current(h)) {
        return 0;
    }
    std::uint32_t done = 0;
    while (done < n) {
        const wire::Bytes piece = stream_piece(offset + done, n - done);
        const ssize_t sent = send(h.fd, piece.data(), piece.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
        if (sent > 0) {
            done += static_cast<std::uint32_t>(sent);
            if (static_cast<std::size_t>(sent) < piece.size()) {
                break; // the socket buffer is full
            }
            continue;
        }
        if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            ended(h, true);
        }
        break;
    }
    return done;
}

std::uint32_t KernelStack::echo(Handle h) {
    if (!current(h)) {
        return 0;
    }
    Conn& c = state(h.fd);
    std::uint32_t echoed = 0;
    for (;;) {
        if (!c.pending.empty()) {
            const ssize_t sent = send(h.fd, c.pending.data(), c.pending.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
            if (sent < 0) {
                if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                    ended(h, true);
                    return echoed;
                }
                break;
            }
            echoed += static_cast<std::uint32_t>(sent);
            c.pending.erase(c.pending.begin(), c.pending.begin() + sent);
            if (!c.pending.empty()) {
                break;
            }
        }
        c.pending.resize(echo_buffer);
        const ssize_t n = recv(h.fd, c.pending.data(), echo_buffer, MSG_DONTWAIT);
        if (n <= 0) {
            c.pending.clear();
            recv_stopped(h, n);
            break;
        }
        c.pending.resize(static_cast<std::size_t>(n));
    }
    // What waits to go back stops the reading until the kernel takes it.
    c.reading = c.pending.empty();
    c.want_write = !c.pending.empty();
    set_interest(h);
    return echoed;
}

void KernelStack::want_write(Handle h, bool on) {
    if (current(h) && state(h.fd).want_write != on) {
        state(h.fd).want_write = on;
        set_interest(h);
    }
}

void KernelStack::shutdown(Handle h) {
    if (current(h)) {
        ::shutdown(h.fd, SHUT_WR);
    }
}

void KernelStack::close(Handle h) {
    if (current(h)) {
        forget(h);
    }
}

void KernelStack::abort(Handle h) {
    if (current(h)) {
        // SO_LINGER with a zero timeout: close() sends a RST (as synack's abort).
        const linger l{1, 0};
        setsockopt(h.fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        forget(h);
    }
}

void KernelStack::forget(Handle h) {
    Conn& c = state(h.fd);
    c.open = false;
    c.pending.clear();
    c.pending.shrink_to_fit();
    ::close(h.fd); // leaves the epoll set with it
}

} // namespace synack::bench
