#include "server.hpp"

#include "stream.hpp"

#include <algorithm>
#include <cstring>

namespace synack::bench {

Server::Server(engine::Engine& engine, const Options& options)
    : engine_(engine), options_(options), conns_(options.max_connections),
      hashes_(options.sha256 ? options.max_connections : 0) {
    open_.reserve(options.max_connections);
}

void Server::step() noexcept {
    for (const std::uint16_t port : options_.listen) {
        while (auto id = engine_.accept(port)) {
            Conn& c = conns_[id->index];
            c = Conn{*id, true};
            if (!hashes_.empty()) {
                hashes_[id->index] = Sha256();
            }
            open_.push_back(id->index);
            ++stats_.accepted;
        }
    }
    engine::Event events[64];
    while (const std::size_t n = engine_.events(events, 64)) {
        for (std::size_t i = 0; i < n; ++i) {
            Conn& c = conns_[events[i].conn.index];
            if (!c.open || c.id != events[i].conn) {
                continue;
            }
            if (events[i].kind == tcp::ConnEvent::peer_closed) {
                c.peer_closed = true;
            } else if (events[i].kind == tcp::ConnEvent::closed) {
                c.open = false;
                ++stats_.closed;
            }
        }
    }
    for (std::size_t i = 0; i < open_.size();) {
        Conn& c = conns_[open_[i]];
        if (c.open) {
            serve(c);
        }
        if (!c.open) {
            open_[i] = open_.back();
            open_.pop_back();
        } else {
            ++i;
        }
    }
}

void Server::serve(Conn& c) noexcept {
    switch (options_.mode) {
    case Mode::echo: echo(c); break;
    case Mode::sink: {
        // Checked in place: a client sending the stream learns from
        // pattern_errors that nothing was lost on the way.
        const Checked got =
            read_stream(engine_, c.id, c.received, hashes_.empty() ? nullptr : &hashes_[c.id.index]);
        c.received += got.bytes;
        stats_.bytes_in += got.bytes;
        stats_.pattern_errors += got.errors;
        break;
    }
    case Mode::source: source(c); break;
    }
    finish(c);
}

void Server::echo(Conn& c) noexcept {
    // What cannot be sent back stays unread: the window closes on the peer
    // until our send buffer drains (back-pressure, no buffering here).
    wire::Bytes spans[16];
    const std::size_t n = engine_.peek(c.id, spans, 16);
    std::uint32_t echoed = 0;
    for (std::size_t i = 0; i < n; ++i) {
        std::size_t off = 0;
        while (off < spans[i].size()) {
            const std::uint32_t room = engine_.writable(c.id);
            wire::MbufPtr m = room == 0 ? wire::MbufPtr{} : engine_.alloc_buffer();
            if (!m) {
                goto done;
            }
            const auto len = static_cast<std::uint16_t>(
                std::min<std::size_t>({spans[i].size() - off, room, rte_pktmbuf_tailroom(m.get())}));
            std::memcpy(rte_pktmbuf_append(m.get(), len), spans[i].data() + off, len);
            if (!engine_.send(c.id, m).ok()) {
                goto done;
            }
            off += len;
            echoed += len;
        }
    }
done:
    engine_.consume(c.id, echoed);
    stats_.bytes_in += echoed;
    stats_.bytes_out += echoed;
}

void Server::source(Conn& c) noexcept {
    stats_.bytes_in += engine_.readable(c.id);
    engine_.consume(c.id, engine_.readable(c.id));
    if (!c.peer_closed) {
        const std::uint64_t queued = send_stream(engine_, c.id, c.sent, options_.source_bytes);
        c.sent += queued;
        stats_.bytes_out += queued;
    }
}

void Server::finish(Conn& c) noexcept {
    const bool done_sending = options_.mode != Mode::source || c.sent >= options_.source_bytes;
    if (options_.mode == Mode::source && done_sending && !c.shut) {
        engine_.shutdown(c.id); // the stream ends: FIN after the data
        c.shut = true;
    }
    if (c.peer_closed && engine_.readable(c.id) == 0 && (done_sending || options_.mode != Mode::source)) {
        if (!hashes_.empty() && digests_.size() < max_digests) {
            digests_.push_back(hashes_[c.id.index].hex()); // the whole stream, to its FIN
        }
        engine_.close(c.id); // the engine finishes the connection; no more events
        c.open = false;
        ++stats_.closed;
    }
}

void Server::close_all() noexcept {
    // No new connections while the old ones close: a SYN now gets an RST.
    for (const std::uint16_t port : options_.listen) {
        engine_.unlisten(port);
    }
    for (const std::uint32_t index : open_) {
        Conn& c = conns_[index];
        if (c.open) {
            engine_.close(c.id);
            c.open = false;
            ++stats_.closed;
        }
    }
}

void Server::abort_all() noexcept {
    for (const std::uint32_t index : open_) {
        if (engine_.state(conns_[index].id)) {
            engine_.abort(conns_[index].id);
        }
    }
    open_.clear();
}

} // namespace synack::bench
