#include <synack/api/stack.hpp>

#include <synack/engine/engine.hpp>

#include <algorithm>
#include <cstring>

namespace synack {

namespace {

// The public enums mirror the engine's value for value: a change on either
// side fails here.
static_assert(static_cast<int>(ConnState::time_wait) == static_cast<int>(tcp::TcpState::time_wait));
static_assert(static_cast<int>(ConnState::listen) == static_cast<int>(tcp::TcpState::listen));
static_assert(static_cast<int>(ConnState::established) ==
              static_cast<int>(tcp::TcpState::established));
static_assert(static_cast<int>(CloseReason::aborted) ==
              static_cast<int>(tcp::CloseReason::aborted));
static_assert(static_cast<int>(CloseReason::timed_out) ==
              static_cast<int>(tcp::CloseReason::timed_out));
static_assert(ready::connected == engine::ready_bit(tcp::ConnEvent::connected));
static_assert(ready::readable == engine::ready_bit(tcp::ConnEvent::readable));
static_assert(ready::writable == engine::ready_bit(tcp::ConnEvent::writable));
static_assert(ready::peer_closed == engine::ready_bit(tcp::ConnEvent::peer_closed));
static_assert(ready::closed == engine::ready_bit(tcp::ConnEvent::closed));

Ipv4Addr v4_of(const wire::Ipv6Addr& mapped) noexcept {
    return Ipv4Addr::load(mapped.bytes.data() + 12);
}

engine::ConnId id_of(Conn c) noexcept { return {c.index, c.generation}; }
Conn conn_of(engine::ConnId id) noexcept { return {id.index, id.generation}; }

tcp::KeepaliveConfig keepalive_of(const Keepalive& k) noexcept {
    return {k.enabled, k.idle, k.interval, k.probes};
}

engine::SynCookieMode cookies_of(SynCookies s) noexcept {
    switch (s) {
    case SynCookies::off: return engine::SynCookieMode::off;
    case SynCookies::on_overflow: return engine::SynCookieMode::on_overflow;
    case SynCookies::always: return engine::SynCookieMode::always;
    }
    return engine::SynCookieMode::on_overflow;
}

} // namespace

engine::EngineConfig engine_config(const StackConfig& s) noexcept {
    engine::EngineConfig e;
    e.mac = s.mac;
    e.ipv4 = s.ipv4;
    e.prefix_len = s.prefix_len;
    e.gateway = s.gateway;
    e.next_hop_mac = s.next_hop_mac;
    e.max_connections = s.max_connections;
    e.max_listeners = s.max_listeners;
    e.syn_backlog = s.syn_backlog;
    e.syn_cookies = cookies_of(s.syn_cookies);
    e.ephemeral_port_min = s.ephemeral_port_min;
    e.ephemeral_port_max = s.ephemeral_port_max;
    if (s.owns) {
        e.owns_tuple = [owns = s.owns](const tcp::FourTuple& t) {
            return owns(v4_of(t.local_addr), t.local_port, v4_of(t.remote_addr), t.remote_port);
        };
    }
    e.arp_responder = s.arp_responder;
    e.tcp.syn_retries = s.syn_retries;
    e.tcp.mss = s.mss;
    e.tcp.send_buffer_bytes = s.send_buffer_bytes;
    e.tcp.recv_buffer_bytes = s.recv_buffer_bytes;
    e.tcp.window_scaling = s.window_scaling;
    e.tcp.timestamps = s.timestamps;
    e.tcp.sack = s.sack;
    e.tcp.nagle = !s.no_delay;
    e.tcp.keepalive = keepalive_of(s.keepalive);
    std::memcpy(&e.secret.k0, s.secret.data(), 8);
    std::memcpy(&e.secret.k1, s.secret.data() + 8, 8);
    e.tx_checksum = {s.tx_checksum_ipv4, s.tx_checksum_tcp};
    return e;
}

namespace {

engine::EngineConfig with_ready_list(engine::EngineConfig e) noexcept {
    e.ready_list = true;
    // Every connection may queue a segment and an event in one pass.
    e.event_queue = std::max(e.event_queue, 4 * e.max_connections);
    e.tx_queue = std::max(e.tx_queue, 2 * e.max_connections);
    return e;
}

ConnError conn_error(engine::ConnError e) noexcept {
    switch (e) {
    case engine::ConnError::stale_id: return ConnError::stale;
    case engine::ConnError::not_connected: return ConnError::not_connected;
    case engine::ConnError::write_closed: return ConnError::write_closed;
    case engine::ConnError::no_room: return ConnError::no_room;
    }
    return ConnError::stale;
}

} // namespace

const char* to_string(ConnState s) noexcept {
    return tcp::to_string(static_cast<tcp::TcpState>(s));
}
const char* to_string(CloseReason r) noexcept {
    return tcp::to_string(static_cast<tcp::CloseReason>(r));
}

const char* to_string(ListenError e) noexcept {
    switch (e) {
    case ListenError::port_in_use: return "port_in_use";
    case ListenError::too_many_listeners: return "too_many_listeners";
    }
    return "unknown";
}

const char* to_string(ConnectError e) noexcept {
    switch (e) {
    case ConnectError::no_connection_slot: return "no_connection_slot";
    case ConnectError::no_local_port: return "no_local_port";
    case ConnectError::no_mbuf: return "no_mbuf";
    }
    return "unknown";
}

const char* to_string(ConnError e) noexcept {
    switch (e) {
    case ConnError::stale: return "stale";
    case ConnError::not_connected: return "not_connected";
    case ConnError::write_closed: return "write_closed";
    case ConnError::no_room: return "no_room";
    case ConnError::no_mbuf: return "no_mbuf";
    case ConnError::nothing: return "nothing";
    }
    return "unknown";
}

Stack::Stack(const StackConfig& config, rte_mempool* pool, time::Instant now,
             rte_mempool* ctrl_pool)
    : Stack(engine_config(config), pool, now, ctrl_pool) {}

Stack::Stack(const engine::EngineConfig& config, rte_mempool* pool, time::Instant now,
             rte_mempool* ctrl_pool)
    : engine_(std::make_unique<engine::Engine>(with_ready_list(config), pool, now, ctrl_pool)),
      pool_(pool), now_(now) {}

Stack::~Stack() = default;

void Stack::input(rte_mbuf** pkts, std::uint16_t n, time::Instant now) noexcept {
    now_ = now;
    engine_->input(pkts, n, now);
}

void Stack::poll(time::Instant now) noexcept {
    now_ = now;
    engine_->poll(now);
}

std::uint16_t Stack::drain(rte_mbuf** out, std::uint16_t max) noexcept {
    return engine_->drain(out, max);
}

void Stack::announce() noexcept { engine_->announce(); }

std::optional<time::Instant> Stack::next_wakeup() const noexcept { return engine_->next_wakeup(); }

std::size_t Stack::ready(Ready* out, std::size_t max) noexcept {
    constexpr std::size_t chunk = 64;
    engine::ReadyEntry entries[chunk];
    std::size_t n = 0;
    while (n < max) {
        const std::size_t got = engine_->ready(entries, std::min(chunk, max - n));
        for (std::size_t i = 0; i < got; ++i) {
            const engine::ReadyEntry& e = entries[i];
            out[n++] =
                Ready{conn_of(e.conn), e.what, static_cast<CloseReason>(e.reason), e.listen_port};
        }
        if (got == 0) {
            break;
        }
    }
    return n;
}

Status<ListenError> Stack::listen(std::uint16_t port) noexcept {
    auto r = engine_->listen(port);
    if (!r.ok()) {
        return Err{r.error() == engine::ListenError::port_in_use ? ListenError::port_in_use
                                                                 : ListenError::too_many_listeners};
    }
    return {};
}

void Stack::unlisten(std::uint16_t port) noexcept { engine_->unlisten(port); }

Result<Conn, ConnectError> Stack::connect(Ipv4Addr dst, std::uint16_t port,
                                          std::uint16_t local_port) noexcept {
    auto r = engine_->connect(dst, port, now_, local_port);
    if (!r.ok()) {
        switch (r.error()) {
        case engine::ConnectError::no_connection_slot: return Err{ConnectError::no_connection_slot};
        case engine::ConnectError::no_local_port: return Err{ConnectError::no_local_port};
        case engine::ConnectError::no_mbuf: return Err{ConnectError::no_mbuf};
        }
    }
    return conn_of(*r);
}

std::uint32_t Stack::readable(Conn c) noexcept { return engine_->readable(id_of(c)); }

std::size_t Stack::peek(Conn c, Bytes* out, std::size_t max) noexcept {
    return engine_->peek(id_of(c), out, max);
}

Status<ConnError> Stack::consume(Conn c, std::uint32_t n) noexcept {
    if (engine_->tcb(id_of(c)) == nullptr) {
        return Err{ConnError::stale};
    }
    engine_->consume(id_of(c), n);
    return {};
}

Result<Buffer, ConnError> Stack::take(Conn c, std::uint32_t max_bytes) noexcept {
    if (engine_->tcb(id_of(c)) == nullptr) {
        return Err{ConnError::stale};
    }
    Buffer b = engine_->take(id_of(c), max_bytes);
    if (!b) {
        return Err{ConnError::nothing};
    }
    return b;
}

std::uint32_t Stack::writable(Conn c) noexcept { return engine_->writable(id_of(c)); }

Buffer Stack::alloc_buffer() noexcept { return engine_->alloc_buffer(); }

Status<ConnError> Stack::send(Conn c, Buffer& data) noexcept {
    auto r = engine_->send(id_of(c), data);
    if (!r.ok()) {
        return Err{conn_error(r.error())};
    }
    return {};
}

Result<std::uint32_t, ConnError> Stack::write(Conn c, Bytes data) noexcept {
    const tcp::Tcb* t = engine_->tcb(id_of(c));
    if (t == nullptr) {
        return Err{ConnError::stale};
    }
    const auto want =
        static_cast<std::uint32_t>(std::min<std::size_t>(data.size(), t->send.space()));
    if (auto r = engine_->check_send(id_of(c)); !r.ok()) {
        return Err{conn_error(r.error())}; // a full budget now owes ready::writable
    }
    std::uint32_t done = 0;
    while (done < want) {
        Buffer b = alloc_buffer();
        if (!b) {
            break;
        }
        const auto n = static_cast<std::uint16_t>(
            std::min<std::uint32_t>(want - done, rte_pktmbuf_tailroom(b.get())));
        std::memcpy(rte_pktmbuf_append(b.get(), n), data.data() + done, n);
        if (auto r = engine_->send(id_of(c), b); !r.ok()) {
            if (done == 0) {
                return Err{conn_error(r.error())};
            }
            break;
        }
        done += n;
    }
    if (done == 0 && want != 0) {
        return Err{ConnError::no_mbuf};
    }
    return done;
}

Status<ConnError> Stack::shutdown(Conn c) noexcept {
    if (engine_->tcb(id_of(c)) == nullptr) {
        return Err{ConnError::stale};
    }
    engine_->shutdown(id_of(c));
    return {};
}

Status<ConnError> Stack::close(Conn c) noexcept {
    if (engine_->tcb(id_of(c)) == nullptr) {
        return Err{ConnError::stale};
    }
    engine_->close(id_of(c));
    return {};
}

Status<ConnError> Stack::abort(Conn c) noexcept {
    if (engine_->tcb(id_of(c)) == nullptr) {
        return Err{ConnError::stale};
    }
    engine_->abort(id_of(c));
    return {};
}

Status<ConnError> Stack::set_no_delay(Conn c, bool on) noexcept {
    if (engine_->tcb(id_of(c)) == nullptr) {
        return Err{ConnError::stale};
    }
    engine_->set_nagle(id_of(c), !on);
    return {};
}

Status<ConnError> Stack::set_keepalive(Conn c, const Keepalive& k) noexcept {
    if (engine_->tcb(id_of(c)) == nullptr) {
        return Err{ConnError::stale};
    }
    engine_->set_keepalive(id_of(c), keepalive_of(k));
    return {};
}

Status<ConnError> Stack::set_rst_on_close(Conn c, bool on) noexcept {
    if (engine_->tcb(id_of(c)) == nullptr) {
        return Err{ConnError::stale};
    }
    engine_->set_rst_on_close(id_of(c), on);
    return {};
}

Result<ConnInfo, ConnError> Stack::info(Conn c) noexcept {
    const tcp::Tcb* t = engine_->tcb(id_of(c));
    if (t == nullptr) {
        return Err{ConnError::stale};
    }
    ConnInfo i;
    i.state = static_cast<ConnState>(t->state);
    i.local_ip = v4_of(t->tuple.local_addr);
    i.remote_ip = v4_of(t->tuple.remote_addr);
    i.local_port = t->tuple.local_port;
    i.remote_port = t->tuple.remote_port;
    i.srtt = t->rtt.srtt();
    i.rttvar = t->rtt.rttvar();
    i.rto = t->rtt.rto();
    i.cwnd_bytes = t->cc.cwnd_bytes();
    i.ssthresh_bytes = t->cc.ssthresh_bytes();
    i.snd_wnd_bytes = t->snd.wnd;
    i.rcv_wnd_bytes = t->recv.window();
    i.flight_bytes = t->flight_size();
    i.snd_mss = t->snd.mss;
    i.timestamps = t->ts_ok;
    i.sack = t->sack_ok;
    i.snd_wscale = t->snd.wscale;
    i.rcv_wscale = t->rcv.wscale;
    i.segments_retransmitted = t->segments_retransmitted;
    i.bytes_acked = t->bytes_acked;
    i.bytes_received = t->bytes_received;
    i.bytes_readable = t->recv.bytes();
    i.bytes_unsent = t->send.bytes();
    return i;
}

std::size_t Stack::connections() const noexcept { return engine_->connections(); }

std::size_t Stack::bytes_per_connection() noexcept {
    // The connection (a pool slot, padded), its entries in the tables (slot,
    // generation, free and dirty lists, flow-table bucket, ready list: about
    // 48 bytes), and its share of the event and transmit queues (4 events and
    // 2 frames of 16 and 8 bytes).
    constexpr std::size_t tables = 48 + 4 * 16 + 2 * 8;
    return sizeof(engine::EngineConn) + alignof(engine::EngineConn) + tables;
}

} // namespace synack
