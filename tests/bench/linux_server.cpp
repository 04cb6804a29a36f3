// linux-server MODE PORT [BYTES]: the Linux kernel's side of the
// comparison in scripts/bench-veth.sh, as close to synack-bench's server as
// the socket API allows: one thread, epoll, non-blocking sockets; echo,
// sink, or source (BYTES of i mod 251 per connection, then close).

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

struct Conn {
    std::uint64_t sent = 0;
    std::string pending; // echo: received, not yet sent back
    bool waiting_out = false; // registered for EPOLLOUT instead of EPOLLIN
};

void set_nonblocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

} // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: linux-server echo|sink|source PORT [BYTES]\n");
        return 2;
    }
    const std::string mode = argv[1];
    const int port = std::atoi(argv[2]);
    const std::uint64_t total = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 0;
    const int lfd = socket(AF_INET, SOCK_STREAM, 0);
    const int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    if (bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(lfd, 4096) != 0) {
        std::perror("linux-server: bind/listen");
        return 1;
    }
    set_nonblocking(lfd);
    const int ep = epoll_create1(0);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = lfd;
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    std::printf("listening\n");
    std::fflush(stdout);
    std::unordered_map<int, Conn> conns;
    std::vector<char> buf(1 << 16);
    std::vector<char> pattern(1 << 16);
    epoll_event events[256];
    for (;;) {
        const int n = epoll_wait(ep, events, 256, -1);
        for (int i = 0; i < n; ++i) {
            const int fd = events[i].data.fd;
            if (fd == lfd) {
                while (true) {
                    const int c = accept(lfd, nullptr, nullptr);
                    if (c < 0) {
                        break;
                    }
                    set_nonblocking(c);
                    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    epoll_event cev{};
                    cev.events = EPOLLIN | (mode == "source" ? EPOLLOUT : 0u);
                    cev.data.fd = c;
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
                    conns[c];
                }
                continue;
            }
            Conn& c = conns[fd];
            bool done = false;
            if (mode == "echo" && (events[i].events & EPOLLOUT) && !c.pending.empty()) {
                const ssize_t w = write(fd, c.pending.data(), c.pending.size());
                if (w > 0) {
                    c.pending.erase(0, static_cast<std::size_t>(w));
                }
            }
            if ((events[i].events & EPOLLIN) && c.pending.empty()) {
                const ssize_t r = read(fd, buf.data(), buf.size());
                if (r <= 0) {
                    done = r == 0 || errno != EAGAIN;
                } else if (mode == "echo") {
                    const ssize_t w = write(fd, buf.data(), static_cast<std::size_t>(r));
                    if (w < r) {
                        // The peer reads slower than it writes: keep the rest,
                        // and read no more until it has gone.
                        c.pending.assign(buf.data() + std::max<ssize_t>(w, 0), buf.data() + r);
                    }
                }
            }
            if (mode == "echo" && c.waiting_out == c.pending.empty()) {
                c.waiting_out = !c.pending.empty();
                epoll_event cev{};
                cev.events = c.waiting_out ? EPOLLOUT : EPOLLIN;
                cev.data.fd = fd;
                epoll_ctl(ep, EPOLL_CTL_MOD, fd, &cev);
            }
            if (!done && mode == "source" && (events[i].events & EPOLLOUT)) {
                while (c.sent < total) {
                    const std::size_t len = static_cast<std::size_t>(std::min<std::uint64_t>(pattern.size(), total - c.sent));
                    for (std::size_t k = 0; k < len; ++k) {
                        pattern[k] = static_cast<char>((c.sent + k) % 251);
                    }
                    const ssize_t w = write(fd, pattern.data(), len);
                    if (w <= 0) {
                        break;
                    }
                    c.sent += static_cast<std::uint64_t>(w);
                }
                done = c.sent >= total;
            }
            if (done) {
                epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
                close(fd);
                conns.erase(fd);
            }
        }
    }
}
