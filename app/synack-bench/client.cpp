#include "client.hpp"

#include "stream.hpp"

#include <algorithm>

namespace synack::bench {

Client::Client(engine::Engine& engine, const Options& options, std::uint32_t connections)
    : engine_(engine), options_(options), conns_(connections) {}

bool Client::start(time::Instant now) noexcept {
    for (Conn& c : conns_) {
        auto id = engine_.connect(options_.connect_ip, options_.connect_port, now);
        if (!id.ok()) {
            ++stats_.failed;
            continue;
        }
        c.id = *id;
        c.live = true;
        engine_.set_nagle(c.id, false);
    }
    return stats_.failed == 0;
}

void Client::step() noexcept {
    engine::Event events[64];
    while (const std::size_t n = engine_.events(events, 64)) {
        for (std::size_t i = 0; i < n; ++i) {
            auto it = std::find_if(conns_.begin(), conns_.end(),
                                   [&](const Conn& c) { return c.live && c.id == events[i].conn; });
            if (it == conns_.end()) {
                continue;
            }
            switch (events[i].kind) {
            case tcp::ConnEvent::connected: ++stats_.connected; break;
            case tcp::ConnEvent::peer_closed: it->peer_closed = true; break;
            case tcp::ConnEvent::closed: {
                it->live = false;
                const bool ok = events[i].reason == tcp::CloseReason::normal && it->intact &&
                                it->received == options_.source_bytes;
                ++(ok ? stats_.completed : stats_.failed);
                break;
            }
            case tcp::ConnEvent::readable:
            case tcp::ConnEvent::writable: break;
            }
        }
    }
    for (Conn& c : conns_) {
        if (c.live) {
            serve(c);
        }
    }
}

void Client::serve(Conn& c) noexcept {
    // What came back must be what was sent.
    const Checked got = read_stream(engine_, c.id, c.received);
    c.received += got.bytes;
    c.intact = c.intact && got.errors == 0;
    stats_.echo_errors += got.errors;
    stats_.bytes_in += got.bytes;
    const std::uint64_t queued = send_stream(engine_, c.id, c.sent, options_.source_bytes);
    c.sent += queued;
    stats_.bytes_out += queued;
    // Close: first, once everything came back; or after the server's FIN.
    const bool all_back = c.received >= options_.source_bytes;
    if (!c.shut && all_back && (options_.client_closes || c.peer_closed)) {
        engine_.shutdown(c.id);
        c.shut = true;
    }
}

} // namespace synack::bench
