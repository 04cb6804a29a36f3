#include "sim/app.hpp"

#include <fmt/core.h>

#include <algorithm>

namespace synack::sim {

std::string Endpoint::trace_name() const {
    return fmt::format("{}:{}->{}", on_a ? 'A' : 'B', local_port, remote_port);
}

void App::listen(bool on_a, std::uint16_t port, std::function<Policy(std::uint16_t)> policy) {
    SYNACK_ASSERT(engine_of(on_a).listen(port).ok());
    listeners_.push_back(Listener{on_a, port, std::move(policy)});
}

Endpoint* App::connect(bool on_a, std::uint16_t port, const Policy& policy, std::uint16_t local_port) {
    engine::Engine& e = engine_of(on_a);
    auto id = e.connect(on_a ? w_.ip_b : w_.ip_a, port, w_.now, local_port);
    if (!id.ok()) {
        return nullptr;
    }
    return &add(on_a, *id, policy);
}

Endpoint* App::connect_to(bool on_a, wire::Ipv4Addr dst, std::uint16_t port, const Policy& policy) {
    auto id = engine_of(on_a).connect(dst, port, w_.now);
    if (!id.ok()) {
        return nullptr;
    }
    return &add(on_a, *id, policy);
}

void App::abort(Endpoint& ep) {
    ep.aborted = true;
    trace(ep, "abort");
    engine_of(ep.on_a).abort(ep.id);
}

std::uint64_t App::stream_key(std::uint16_t from_port, std::uint16_t to_port) const noexcept {
    return mix64(seed_ ^ (std::uint64_t{from_port} << 16 | to_port) ^ 0x57a3e0000000000ULL);
}

Endpoint& App::add(bool on_a, engine::ConnId id, const Policy& p) {
    engine::Engine& e = engine_of(on_a);
    Endpoint& ep = endpoints_.emplace_back();
    ep.on_a = on_a;
    ep.id = id;
    ep.policy = p;
    const auto tuple = e.tuple(id);
    SYNACK_ASSERT(tuple.has_value());
    ep.local_port = tuple->local_port;
    ep.remote_port = tuple->remote_port;
    ep.out_key = stream_key(ep.local_port, ep.remote_port);
    ep.in_key = p.expect_echo ? ep.out_key : stream_key(ep.remote_port, ep.local_port);
    if (p.echo) {
        ep.out_key = ep.in_key; // what goes back is what came in
    }
    ep.next_read = w_.now;
    e.set_nagle(id, p.nagle);
    by_id_[{on_a, id.index, id.generation}] = &ep;
    trace(ep, "opened");
    return ep;
}

void App::trace(const Endpoint& ep, const std::string& what) const {
    if (verbose_) {
        fmt::print("{:>12.6f} app {} {} (sent {}, received {})\n", static_cast<double>(w_.now.us()) / 1e6,
                   ep.trace_name(), what, ep.sent.bytes, ep.received.bytes);
    }
}

void App::handle(const engine::Event& ev, bool on_a) {
    auto it = by_id_.find({on_a, ev.conn.index, ev.conn.generation});
    if (it == by_id_.end()) {
        return; // a connection the application never accepted
    }
    Endpoint& ep = *it->second;
    switch (ev.kind) {
    case tcp::ConnEvent::connected: ep.connected = true; break;
    case tcp::ConnEvent::readable: break; // step() reads whatever is readable
    case tcp::ConnEvent::writable: ep.blocked = false; break;
    case tcp::ConnEvent::peer_closed: ep.peer_closed = true; break;
    case tcp::ConnEvent::closed:
        ep.closed = true;
        ep.reason = ev.reason;
        by_id_.erase(it);
        break;
    }
    trace(ep, tcp::to_string(ev.kind) + std::string(ev.kind == tcp::ConnEvent::closed ? " " : "") +
                  (ev.kind == tcp::ConnEvent::closed ? tcp::to_string(ev.reason) : ""));
}

bool App::step() {
    bool acted = false;
    for (const Listener& l : listeners_) {
        engine::Engine& e = engine_of(l.on_a);
        while (auto id = e.accept(l.port)) {
            const auto tuple = e.tuple(*id);
            Endpoint& ep = add(l.on_a, *id, l.policy(tuple->remote_port));
            ep.connected = true;
            acted = true;
        }
    }
    for (bool on_a : {true, false}) {
        engine::Event events[64];
        while (const std::size_t n = engine_of(on_a).events(events, 64)) {
            for (std::size_t i = 0; i < n; ++i) {
                handle(events[i], on_a);
            }
            acted = true;
        }
    }
    for (Endpoint& ep : endpoints_) {
        acted |= step(ep);
    }
    return acted;
}

bool App::step(Endpoint& ep) {
    if (ep.closed || ep.aborted || !ep.connected) {
        return false;
    }
    engine::Engine& e = engine_of(ep.on_a);
    bool acted = read(ep, e);
    if (ep.aborted) {
        return true;
    }
    acted |= write(ep, e);
    const std::uint64_t target = ep.policy.echo ? ep.received.bytes : ep.policy.send_bytes;
    const bool target_final = !ep.policy.echo || ep.peer_closed;
    const bool all_sent = ep.sent.bytes == target && target_final && (!ep.policy.send_after_peer_fin || ep.peer_closed);
    if (ep.policy.close) {
        if (all_sent && ep.peer_closed && e.readable(ep.id) == 0) {
            e.close(ep.id);
            ep.closed = true; // no more events: as far as the application goes, done
            by_id_.erase({ep.on_a, ep.id.index, ep.id.generation});
            trace(ep, "close");
            acted = true;
        }
        return acted;
    }
    bool shut_now = false;
    switch (ep.policy.shutdown) {
    case Policy::Shutdown::when_sent: shut_now = all_sent; break;
    case Policy::Shutdown::after_peer_fin: shut_now = all_sent && ep.peer_closed && e.readable(ep.id) == 0; break;
    case Policy::Shutdown::never: break;
    }
    if (shut_now && !ep.shut) {
        ep.shut = true;
        e.shutdown(ep.id);
        trace(ep, "shutdown");
        acted = true;
    }
    return acted;
}

bool App::read(Endpoint& ep, engine::Engine& e) {
    const std::uint32_t readable = e.readable(ep.id);
    if (readable == 0) {
        return false;
    }
    if (w_.now < ep.policy.hold_until) {
        return false;
    }
    std::uint32_t budget = readable;
    if (ep.policy.read_chunk != UINT32_MAX) {
        if (w_.now < ep.next_read) {
            return false;
        }
        budget = std::min(budget, ep.policy.read_chunk);
        ep.next_read = w_.now + ep.policy.read_every;
    }
    // In place: the spans are the received mbufs' own bytes.
    wire::Bytes spans[16];
    const std::size_t n = e.peek(ep.id, spans, 16);
    std::uint32_t taken = 0;
    std::uint8_t expected[256];
    for (std::size_t i = 0; i < n && taken < budget; ++i) {
        for (std::size_t j = 0; j < spans[i].size() && taken < budget;) {
            const std::size_t k =
                std::min<std::size_t>({sizeof expected, spans[i].size() - j, budget - taken});
            fill_stream(ep.in_key, ep.received.bytes, expected, k);
            for (std::size_t b = 0; b < k; ++b) {
                ep.received.add(spans[i][j + b], expected[b]);
            }
            j += k;
            taken += static_cast<std::uint32_t>(k);
        }
    }
    e.consume(ep.id, taken);
    if (taken != 0) {
        last_read_ = w_.now;
    }
    if (ep.received.bytes >= ep.policy.abort_after) {
        abort(ep);
    }
    return taken != 0;
}

bool App::write(Endpoint& ep, engine::Engine& e) {
    if (ep.shut || ep.blocked || (ep.policy.send_after_peer_fin && !ep.peer_closed)) {
        return false;
    }
    const std::uint64_t target = ep.policy.echo ? ep.received.bytes : ep.policy.send_bytes;
    bool acted = false;
    while (ep.sent.bytes < target) {
        const std::uint32_t room = e.writable(ep.id);
        if (room == 0) {
            ep.blocked = true; // back-pressure: the writable event resumes us
            break;
        }
        wire::MbufPtr m(rte_pktmbuf_alloc(w_.pool));
        if (!m) {
            break; // the pool is empty: try again after time moves
        }
        const auto len = static_cast<std::uint16_t>(
            std::min<std::uint64_t>({target - ep.sent.bytes, room, rte_pktmbuf_tailroom(m.get())}));
        auto* bytes = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m.get(), len));
        fill_stream(ep.out_key, ep.sent.bytes, bytes, len);
        if (!e.send(ep.id, m).ok()) {
            break; // m is still ours and is freed here
        }
        for (std::uint16_t i = 0; i < len; ++i) {
            ep.sent.add(bytes[i], bytes[i]);
        }
        acted = true;
    }
    return acted;
}

std::optional<time::Instant> App::wakeup() const {
    std::optional<time::Instant> next;
    const auto consider = [&](time::Instant t) {
        if (t > w_.now && (!next || t < *next)) {
            next = t;
        }
    };
    for (const Endpoint& ep : endpoints_) {
        if (ep.closed || ep.aborted || w_.a.connections() + w_.b.connections() == 0) {
            continue;
        }
        if (ep.policy.read_chunk != UINT32_MAX) {
            consider(ep.next_read);
        }
        consider(ep.policy.hold_until);
    }
    return next;
}

bool App::all_closed() const {
    return std::all_of(endpoints_.begin(), endpoints_.end(), [](const Endpoint& ep) { return ep.closed; });
}

void App::check(std::vector<std::string>& failures) const {
    for (const Endpoint& ep : endpoints_) {
        const std::string name = ep.trace_name();
        if (!ep.closed) {
            failures.push_back(fmt::format("{}: never closed", name));
            continue;
        }
        if ((ep.policy.expect_reasons & reason_bit(ep.reason)) == 0) {
            failures.push_back(fmt::format("{}: closed with reason {}", name, tcp::to_string(ep.reason)));
        }
        if (ep.received.first_bad) {
            failures.push_back(fmt::format("{}: byte {} of the stream received is wrong", name, *ep.received.first_bad));
        }
        const auto peer = std::find_if(endpoints_.begin(), endpoints_.end(), [&](const Endpoint& p) {
            return p.on_a != ep.on_a && p.local_port == ep.remote_port && p.remote_port == ep.local_port;
        });
        const bool normal = ep.reason == tcp::CloseReason::normal;
        if (ep.policy.raw_peer) {
            continue; // the scenario checks what a hand-spoken peer sent and got
        }
        if (peer == endpoints_.end()) {
            if (normal) {
                failures.push_back(fmt::format("{}: closed normally, but the peer never accepted it", name));
            }
            continue;
        }
        // The stream from ep to its peer: all of it, exactly once, when both
        // closed normally; a prefix otherwise (the first_bad check covers content).
        if (normal && peer->reason == tcp::CloseReason::normal) {
            if (!ep.policy.echo && ep.sent.bytes != ep.policy.send_bytes) {
                failures.push_back(fmt::format("{}: closed normally after sending {} of {} bytes", name,
                                               ep.sent.bytes, ep.policy.send_bytes));
            }
            if (peer->received.bytes != ep.sent.bytes || peer->received.hash != ep.sent.hash) {
                failures.push_back(fmt::format("{}: sent {} bytes (hash {:016x}), the peer received {} (hash {:016x})",
                                               name, ep.sent.bytes, ep.sent.hash, peer->received.bytes,
                                               peer->received.hash));
            }
        } else if (peer->received.bytes > ep.sent.bytes) {
            failures.push_back(fmt::format("{}: sent {} bytes, the peer received more: {}", name, ep.sent.bytes,
                                           peer->received.bytes));
        }
    }
}

} // namespace synack::sim
