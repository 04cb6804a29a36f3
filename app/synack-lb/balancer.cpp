#include "balancer.hpp"

#include <algorithm>
#include <cstdint>

namespace synack::lb {

Balancer::Balancer(Stack& stack, const Options& options)
    : stack_(stack), o_(options), picker_(options.policy, options.backends.size()),
      sides_(options.max_connections) {
    stats_.backends.resize(options.backends.size());
}

std::optional<std::uint16_t> Balancer::start() {
    for (const std::uint16_t port : o_.listen) {
        if (!stack_.listen(port).ok()) {
            return port;
        }
    }
    return std::nullopt;
}

Balancer::Side* Balancer::side_of(Conn c) noexcept {
    if (c.index >= sides_.size()) {
        return nullptr;
    }
    Side& s = sides_[c.index];
    return s.live && s.self == c ? &s : nullptr;
}

Balancer::Side& Balancer::make_side(Conn c) {
    Side& s = sides_[c.index]; // a handle's slot is below max_connections
    s = Side{};
    s.self = c;
    s.live = true;
    return s;
}

void Balancer::step(time::Instant now) {
    Ready batch[64];
    while (const std::size_t n = stack_.ready(batch, 64)) {
        for (std::size_t i = 0; i < n; ++i) {
            const Ready& r = batch[i];
            if (r.has(ready::connected) && r.listen_port != 0) {
                on_client(r, now);
            } else if (Side* s = side_of(r.conn)) {
                on_ready(*s, r, now);
            }
        }
    }
}

void Balancer::on_client(const Ready& r, time::Instant now) {
    ++stats_.accepted;
    const auto info = stack_.info(r.conn);
    if (!info.ok()) {
        return; // closed already
    }
    const auto b = picker_.pick(info->remote_ip, info->remote_port, now);
    const auto backend = b ? stack_.connect(o_.backends[*b].ip, o_.backends[*b].port)
                           : Result<Conn, ConnectError>(Err{ConnectError::no_connection_slot});
    if (!backend.ok()) {
        ++stats_.no_backend;
        (void)stack_.abort(r.conn);
        return;
    }
    Side& client = make_side(r.conn);
    client.connected = true;
    client.peer = *backend;
    client.backend = *b;
    Side& server = make_side(*backend);
    server.is_backend = true;
    server.backend = *b;
    server.peer = r.conn;
    ++stats_.backends[*b].connections;
    ++stats_.backends[*b].active;
    ++pairs_;
    // Segments go on as they came: no Nagle delay in either direction.
    (void)stack_.set_no_delay(r.conn, true);
    (void)stack_.set_no_delay(*backend, true);
    on_ready(client,
             Ready{r.conn, static_cast<std::uint8_t>(r.what & ~ready::connected), r.reason, 0},
             now);
}

void Balancer::on_ready(Side& s, const Ready& r, time::Instant now) {
    if (r.has(ready::connected)) {
        s.connected = true;
        if (s.is_backend) {
            picker_.mark_up(s.backend);
        }
    }
    if (r.has(ready::peer_closed)) {
        s.fin_in = true;
    }
    settle(s);
    if (r.has(ready::closed)) {
        end(s, r.reason, now);
    }
}

void Balancer::settle(Side& s) {
    forward(s);
    if (Side* p = side_of(s.peer)) {
        forward(*p);
        push(*p);
    }
    push(s);
}

void Balancer::forward(Side& from) {
    Side* to = side_of(from.peer);
    if (to == nullptr || !to->connected || to->shut_out) {
        return;
    }
    for (;;) {
        push(*to);
        if (to->pending) {
            return; // no room yet: ready::writable comes
        }
        const std::uint32_t room = stack_.writable(to->self);
        if (room == 0) {
            (void)stack_.write(to->self, {}); // asks for ready::writable
            return;
        }
        Bytes first[1];
        if (stack_.peek(from.self, first, 1) == 0) {
            break;
        }
        // Whole segments up to the room; a first segment larger than it goes
        // alone and waits as pending.
        auto data = stack_.take(
            from.self, std::max<std::uint32_t>(room, static_cast<std::uint32_t>(first[0].size())));
        if (!data.ok()) {
            break;
        }
        const std::uint64_t n = (*data)->pkt_len;
        BackendStats& b = stats_.backends[from.backend];
        (from.is_backend ? b.bytes_from : b.bytes_to) += n;
        to->pending = std::move(*data);
    }
    if (from.fin_in && stack_.readable(from.self) == 0 && !to->owe_fin) {
        to->owe_fin = true;
        ++stats_.half_closes;
    }
    push(*to);
}

void Balancer::push(Side& to) {
    if (!to.connected) {
        return;
    }
    if (to.pending && !stack_.send(to.self, to.pending).ok()) {
        return; // refused: still ours, sent on ready::writable
    }
    if (to.owe_fin && !to.shut_out && !(to.fin_in && stack_.readable(to.self) > 0)) {
        (void)stack_.shutdown(to.self);
        to.shut_out = true;
    }
}

void Balancer::end(Side& s, CloseReason why, time::Instant now) {
    if (s.is_backend && !s.connected && why != CloseReason::normal) {
        // Refused or no answer: out for --down-time, and its client is reset.
        ++stats_.backends[s.backend].failures;
        ++stats_.backend_failed;
        picker_.mark_down(s.backend, now,
                          time::Duration::from_us(static_cast<std::int64_t>(o_.down_s * 1e6)));
    }
    Side* p = side_of(s.peer);
    retire(s);
    if (p != nullptr && why != CloseReason::normal) {
        ++stats_.resets_forwarded;
        (void)stack_.abort(p->self);
        retire(*p);
    }
}

void Balancer::retire(Side& s) {
    s.live = false;
    s.pending.reset();
    if (s.is_backend) {
        --stats_.backends[s.backend].active;
    } else {
        --pairs_;
    }
}

void Balancer::abort_all() {
    for (Side& s : sides_) {
        if (s.live) {
            (void)stack_.abort(s.self);
            retire(s);
        }
    }
}

} // namespace synack::lb
