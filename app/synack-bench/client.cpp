#include "client.hpp"

#include "stream.hpp"

#include <algorithm>

namespace synack::bench {

Client::Client(Stack& stack, const Options& options, std::uint32_t connections)
    : stack_(stack), options_(options), conns_(connections) {}

bool Client::start() noexcept {
    for (Stream& c : conns_) {
        auto id = stack_.connect(options_.connect_ip, options_.connect_port);
        if (!id.ok()) {
            ++stats_.failed;
            continue;
        }
        c.id = *id;
        c.live = true;
        (void)stack_.set_no_delay(c.id, true);
    }
    return stats_.failed == 0;
}

void Client::step() noexcept {
    Ready ready[64];
    while (const std::size_t n = stack_.ready(ready, 64)) {
        for (std::size_t i = 0; i < n; ++i) {
            const Ready& r = ready[i];
            auto it = std::find_if(conns_.begin(), conns_.end(),
                                   [&](const Stream& c) { return c.live && c.id == r.conn; });
            if (it == conns_.end()) {
                continue;
            }
            if (r.has(ready::connected)) {
                ++stats_.connected;
            }
            if (r.has(ready::peer_closed)) {
                it->peer_closed = true;
            }
            if (r.has(ready::closed)) {
                it->live = false;
                const bool ok = r.reason == CloseReason::normal && it->intact &&
                                it->received == options_.source_bytes;
                ++(ok ? stats_.completed : stats_.failed);
            }
        }
    }
    for (Stream& c : conns_) {
        if (c.live) {
            serve(c);
        }
    }
}

void Client::serve(Stream& c) noexcept {
    // What came back must be what was sent.
    const Checked got = read_stream(stack_, c.id, c.received);
    c.received += got.bytes;
    c.intact = c.intact && got.errors == 0;
    stats_.echo_errors += got.errors;
    stats_.bytes_in += got.bytes;
    const std::uint64_t queued = send_stream(stack_, c.id, c.sent, options_.source_bytes);
    c.sent += queued;
    stats_.bytes_out += queued;
    // Close: first, once everything came back; or after the server's FIN.
    const bool all_back = c.received >= options_.source_bytes;
    if (!c.shut && all_back && (options_.client_closes || c.peer_closed)) {
        (void)stack_.shutdown(c.id);
        c.shut = true;
    }
}

} // namespace synack::bench
