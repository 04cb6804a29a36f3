#include <synack/engine/engine.hpp>

#include <synack/base/counters.hpp>
#include <synack/tcp/tcp.hpp>
#include <synack/wire/arp.hpp>
#include <synack/wire/ethernet.hpp>
#include <synack/wire/icmp.hpp>
#include <synack/wire/ipv4.hpp>

#include <boost/intrusive/parent_from_member.hpp>

#include <algorithm>

namespace synack::engine {

namespace {

wire::Ipv4Addr v4_of(const wire::Ipv6Addr& mapped) noexcept {
    return wire::Ipv4Addr::load(mapped.bytes.data() + 12);
}

tcp::Tcb& tcb_of(time::TimerNode& node) noexcept {
    using boost::intrusive::get_parent_from_member;
    switch (static_cast<tcp::TimerKind>(node.kind())) {
    case tcp::TimerKind::retransmit: return *get_parent_from_member(&node, &tcp::Tcb::rtx_timer);
    case tcp::TimerKind::delayed_ack: return *get_parent_from_member(&node, &tcp::Tcb::delack_timer);
    case tcp::TimerKind::persist:
    case tcp::TimerKind::keepalive:
    case tcp::TimerKind::fin_wait_2:
    case tcp::TimerKind::time_wait: return *get_parent_from_member(&node, &tcp::Tcb::misc_timer);
    }
    SYNACK_UNREACHABLE();
}

} // namespace

const char* to_string(FrameDrop d) noexcept {
    switch (d) {
    case FrameDrop::malformed: return "malformed";
    case FrameDrop::not_ipv4: return "not_ipv4";
    case FrameDrop::not_for_us: return "not_for_us";
    case FrameDrop::fragment: return "fragment";
    case FrameDrop::not_tcp: return "not_tcp";
    case FrameDrop::no_connection_slot: return "no_connection_slot";
    case FrameDrop::syn_backlog_full: return "syn_backlog_full";
    case FrameDrop::accept_queue_full: return "accept_queue_full";
    case FrameDrop::multi_segment: return "multi_segment";
    case FrameDrop::no_route: return "no_route";
    case FrameDrop::arp_conflict: return "arp_conflict";
    }
    return "unknown";
}

EngineCounters& EngineCounters::operator+=(const EngineCounters& o) noexcept {
    add_counters(*this, o);
    return *this;
}

Engine::Engine(const EngineConfig& config, rte_mempool* pool, time::Instant now, rte_mempool* ctrl_pool)
    : config_(config), pool_(pool), ctrl_pool_(ctrl_pool != nullptr ? ctrl_pool : pool), now_(now), wheel_(now), ooo_pool_(config.reassembly_segments),
      conn_pool_(config.max_connections),
      conns_(config.max_connections, derive_key(config.secret, "flow table")),
      neighbors_(config.neighbors, derive_key(config.secret, "neighbour cache"), wheel_),
      icmp_window_start_(now), time_wait_pool_(config.time_wait_records),
      time_wait_(config.time_wait_records, derive_key(config.secret, "flow table")),
      half_open_pool_(config.half_open_records),
      half_open_(config.half_open_records, derive_key(config.secret, "flow table")),
      slots_(config.max_connections, nullptr), generation_(config.max_connections, 0),
      out_(config.tx_queue), tcp_events_(config.event_queue), events_(config.event_queue),
      tx_(config.tx_queue), isn_(derive_key(config.secret, "isn")),
      cookies_(derive_key(config.secret, "syn cookie")),
      ts_key_(derive_key(config.secret, "timestamp offset")), next_port_(config.ephemeral_port_min) {
    free_slots_.reserve(config.max_connections);
    for (std::uint32_t i = config.max_connections; i > 0; --i) {
        free_slots_.push_back(i - 1);
    }
    dirty_.reserve(config.max_connections);
    // Each connection at most once, and a freed one's entry beside its
    // slot's next connection's.
    ready_.reserve(config.ready_list ? 2 * std::size_t{config.max_connections} : 0);
}

Engine::~Engine() {
    auto e = env(now_);
    conns_.clear_and_dispose([](Conn&) noexcept {});
    time_wait_.clear_and_dispose([this](TimeWaitRecord& r) noexcept {
        wheel_.cancel(r.timer);
        time_wait_pool_.release(&r);
    });
    for (auto& l : listeners_) {
        while (!l->half_open.empty()) {
            free_half_open(l->half_open.front());
        }
    }
    for (Conn* c : slots_) {
        if (c != nullptr) {
            tcp::release_resources(*c, e);
            conn_pool_.release(c);
        }
    }
    while (!out_.empty()) {
        (void)out_.pop();
    }
    while (!tx_.empty()) {
        rte_pktmbuf_free(tx_.pop());
    }
}

tcp::TcpEnv Engine::env(time::Instant now) noexcept {
    return tcp::TcpEnv{now,         config_.tcp, wheel_,          pool_,        ctrl_pool_, ooo_pool_,
                       out_,        tcp_events_, counters_.tcp, rx_pressure_};
}

void Engine::update_rx_pressure() noexcept {
    // rte_mempool_avail_count() visits every lcore's cache: once per burst,
    // not per packet.
    const std::uint64_t free_pct = std::uint64_t{rte_mempool_avail_count(pool_)} * 100 / pool_->size;
    if (free_pct < config_.rx_pressure_critical_free_pct) {
        rx_pressure_ = tcp::RxPressure::critical;
        ++counters_.rx_pressure_critical;
    } else if (free_pct < config_.rx_pressure_high_free_pct) {
        rx_pressure_ = tcp::RxPressure::high;
        ++counters_.rx_pressure_high;
    } else {
        rx_pressure_ = tcp::RxPressure::none;
    }
}

void Engine::input(rte_mbuf** pkts, std::uint16_t n, time::Instant now) noexcept {
    now_ = now;
    update_rx_pressure();
    for (std::uint16_t i = 0; i < n; ++i) {
        if (i + 1 < n) {
            rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void*));
        }
        handle_frame(pkts[i], now);
    }
    flush(now);
}

void Engine::poll(time::Instant now) noexcept {
    now_ = now;
    auto e = env(now);
    wheel_.expire(now, [&](time::TimerNode& node) noexcept {
        if (node.kind() == net::neighbor_timer_kind) {
            if (auto ip = neighbors_.timer_fired(node, now)) {
                send_arp(static_cast<std::uint16_t>(wire::ArpOp::request), wire::MacAddr{}, *ip,
                         wire::MacAddr::broadcast());
            }
            return;
        }
        using boost::intrusive::get_parent_from_member;
        if (node.kind() == time_wait_record_timer) {
            free_time_wait(*get_parent_from_member(&node, &TimeWaitRecord::timer)); // 2 MSL are over
            return;
        }
        if (node.kind() == half_open_record_timer) {
            half_open_timeout(*get_parent_from_member(&node, &HalfOpenRecord::timer), now);
            return;
        }
        auto& c = static_cast<Conn&>(tcb_of(node));
        tcp::timer_fired(c, static_cast<tcp::TimerKind>(node.kind()), e);
        mark_dirty(c);
    });
    flush(now);
}

std::uint16_t Engine::drain(rte_mbuf** out, std::uint16_t max) noexcept {
    std::uint16_t n = 0;
    while (n < max && !tx_.empty()) {
        out[n++] = tx_.pop();
    }
    counters_.frames_out += n;
    return n;
}

void Engine::handle_frame(rte_mbuf* raw, time::Instant now) noexcept {
    wire::MbufPtr m(raw);
    ++counters_.frames_in;
    // The parsers read one contiguous frame. A NIC delivers a standard frame
    // in one mbuf; a chained one (jumbo, LRO, a virtual link) is gathered
    // into its first segment when it fits, and dropped otherwise.
    if (m->nb_segs > 1 && rte_pktmbuf_linearize(m.get()) != 0) {
        drop(FrameDrop::multi_segment);
        return;
    }
    const wire::Bytes frame = wire::first_segment(m.get());
    auto eth = wire::parse_ethernet(frame);
    if (!eth) {
        ++counters_.wire_errors[static_cast<std::size_t>(eth.error())];
        drop(FrameDrop::malformed);
        return;
    }
    if (eth->ethertype == wire::ethertype::arp) {
        handle_arp(eth->payload, now);
        return;
    }
    if (eth->ethertype != wire::ethertype::ipv4) {
        drop(FrameDrop::not_ipv4);
        return;
    }
    auto ip = wire::parse_ipv4(eth->payload, wire::rx_ip_check(m.get()));
    if (!ip) {
        ++counters_.wire_errors[static_cast<std::size_t>(ip.error())];
        drop(FrameDrop::malformed);
        return;
    }
    if (ip->dst() != config_.ipv4) {
        drop(FrameDrop::not_for_us);
        return;
    }
    if (ip->is_fragment()) {
        drop(FrameDrop::fragment);
        return;
    }
    if (ip->protocol() == wire::ip_proto::icmp) {
        handle_icmp(*ip, now);
        return;
    }
    if (ip->protocol() != wire::ip_proto::tcp) {
        drop(FrameDrop::not_tcp);
        // RFC 1122 section 3.2.2.1: port unreachable where the protocol (UDP)
        // has no way of its own to say so, protocol unreachable otherwise.
        send_unreachable(*ip, ip->protocol() == wire::ip_proto::udp ? wire::icmp_unreach_code::port
                                                                     : wire::icmp_unreach_code::protocol,
                         now);
        return;
    }
    auto seg = wire::parse_tcp(ip->payload(), wire::rx_l4_check(m.get(), ip->pseudo_sum()));
    if (!seg) {
        ++counters_.wire_errors[static_cast<std::size_t>(seg.error())];
        drop(FrameDrop::malformed);
        return;
    }
    const tcp::FourTuple tuple{tcp::FourTuple::mapped(ip->dst()), tcp::FourTuple::mapped(ip->src()),
                               seg->dst_port(), seg->src_port()};
    ++counters_.tcp.segments_in;
    const auto payload_offset = static_cast<std::uint16_t>(seg->payload().data() - frame.data());
    tcp::Incoming in{*seg, std::move(m), payload_offset};
    // A connection closed earlier in this burst stays in the table until
    // reap(): it is no connection any more (RFC 9293 section 3.10.7.1).
    if (Conn* c = conns_.find(tuple); c != nullptr && c->state != tcp::TcpState::closed) {
        auto e = env(now);
        tcp::segment_arrives(*c, std::move(in), e);
        mark_dirty(*c);
        return;
    }
    if (HalfOpenRecord* r = half_open_.find(tuple)) {
        handle_half_open(*r, std::move(in), now);
        return;
    }
    std::optional<wire::Seq32> reopens;
    if (TimeWaitRecord* r = time_wait_.find(tuple)) {
        reopens = r->snd_nxt;
        if (handle_time_wait(*r, *seg, now)) {
            return;
        }
    }
    handle_no_connection(tuple, std::move(in), now, reopens);
}

void Engine::handle_no_connection(const tcp::FourTuple& tuple, tcp::Incoming in, time::Instant now,
                                  std::optional<wire::Seq32> reopens) noexcept {
    const wire::TcpSegment& seg = in.seg;
    auto e = env(now);
    Listener* l = find_listener(tuple.local_port);
    namespace flag = wire::tcp_flag;
    // RFC 9293 section 3.10.7.2: LISTEN ignores RST, resets an ACK (unless it
    // completes a handshake answered with a cookie), opens on SYN.
    if (l != nullptr && seg.has(flag::ack) && !seg.has(flag::syn) && !seg.has(flag::rst) &&
        open_from_cookie(*l, tuple, in, now)) {
        return;
    }
    if (l == nullptr || seg.has(flag::rst) || seg.has(flag::ack)) {
        tcp::reset_for_no_connection(tuple, seg, e);
        return;
    }
    if (!seg.has(flag::syn)) {
        counters_.tcp.drops.add(tcp::DropReason::listen_not_syn);
        return;
    }
    if (seg.has(flag::fin)) {
        counters_.tcp.drops.add(tcp::DropReason::listen_syn_fin);
        return;
    }
    answer_syn(*l, tuple, seg, now, reopens);
}

void Engine::answer_syn(Listener& l, const tcp::FourTuple& tuple, const wire::TcpSegment& syn,
                        time::Instant now, std::optional<wire::Seq32> reopens) noexcept {
    auto e = env(now);
    wire::Seq32 iss = isn_.isn(tuple, now);
    if (reopens && before_eq(iss, *reopens + 65535)) {
        // RFC 9293 section 3.6.1 (and RFC 6191 section 2 without
        // timestamps): a connection reopened from TIME-WAIT starts beyond
        // every sequence number of the one before, so that none of its old
        // segments can fall in the new window; Linux takes SND.NXT + 65537.
        iss = *reopens + 65537;
    }
    tcp::HalfOpen h = tcp::half_open_for(tuple, syn, iss, ts_offset(tuple), config_.tcp, now);
    HalfOpenRecord* r = config_.syn_cookies != SynCookieMode::always && l.half_open.size() < config_.syn_backlog
                            ? half_open_pool_.acquire()
                            : nullptr;
    if (r != nullptr) {
        static_cast<tcp::HalfOpen&>(*r) = h;
        const bool inserted = half_open_.insert(*r); // as many table entries as records
        SYNACK_ASSERT(inserted);
        r->listener = &l;
        l.half_open.push_back(*r);
        (void)tcp::send_syn_ack(*r, false, e);
        wheel_.arm(r->timer, now + config_.tcp.rto_initial);
        return;
    }
    if (config_.syn_cookies == SynCookieMode::off) {
        drop(FrameDrop::syn_backlog_full);
        return;
    }
    // RFC 4987 section 3.6: answer, keep nothing.
    cookies_.answer(h, now);
    if (tcp::send_syn_ack(h, false, e)) {
        ++counters_.syn_cookies_sent;
    }
    // Valid for the period it was made in and the next (tcp/syn_cookie.hpp).
    l.cookies_until = now + time::Duration::from_s(128);
}

bool Engine::open_from_cookie(Listener& l, const tcp::FourTuple& tuple, tcp::Incoming& in,
                              time::Instant now) noexcept {
    if (!l.cookies_until || now > *l.cookies_until) {
        return false;
    }
    const std::optional<tcp::HalfOpen> h = cookies_.open(tuple, in.seg, ts_offset(tuple), config_.tcp, now);
    if (!h) {
        // Dropped without the RST that RFC 9293 section 3.10.7.2 gives an
        // ACK in LISTEN. The later segments of a cookie's connection (data,
        // a FIN, the ACKs after it) may overtake the ACK that opens it;
        // checked against the wrong sequence number they fail, and a RST
        // would reset a peer whose handshake is fine. They come again once
        // the connection exists. Outside the cookies' lifetime, ACKs to the
        // listener are reset as usual.
        ++counters_.syn_cookies_rejected;
        return true;
    }
    if (open_connection(l, *h, in, now)) {
        ++counters_.syn_cookies_accepted;
    }
    return true;
}

void Engine::handle_half_open(HalfOpenRecord& r, tcp::Incoming in, time::Instant now) noexcept {
    auto e = env(now);
    switch (tcp::half_open_arrives(r, in.seg, e)) {
    case tcp::HalfOpenAction::keep: return;
    case tcp::HalfOpenAction::drop: free_half_open(r); return;
    case tcp::HalfOpenAction::open: break;
    }
    // The record goes once its connection exists; if none can be made now,
    // it stays, and its SYN-ACK draws the ACK again.
    if (open_connection(*r.listener, r, in, now)) {
        free_half_open(r);
    }
}

bool Engine::open_connection(Listener& l, const tcp::HalfOpen& h, tcp::Incoming& in,
                             time::Instant now) noexcept {
    // Linux's way with a full accept queue: drop the ACK, so that the peer
    // sends it again once the application has caught up.
    if (l.accept_queue.full()) {
        drop(FrameDrop::accept_queue_full);
        return false;
    }
    Conn* c = new_conn(h.tuple);
    if (c == nullptr) {
        drop(FrameDrop::no_connection_slot);
        return false;
    }
    auto e = env(now);
    c->listen_port = l.port;
    tcp::open_from_half_open(*c, h, e);
    tcp::segment_arrives(*c, std::move(in), e);
    // The segment was judged acceptable, so it leaves SYN-RECEIVED; if not,
    // a whole TCB must not linger there.
    if (c->state == tcp::TcpState::syn_received) {
        tcp::abort(*c, e);
    }
    mark_dirty(*c);
    return true;
}

void Engine::half_open_timeout(HalfOpenRecord& r, time::Instant now) noexcept {
    if (r.retransmits >= config_.tcp.synack_retries) {
        ++counters_.half_open_timed_out;
        free_half_open(r);
        return;
    }
    ++r.retransmits;
    auto e = env(now);
    (void)tcp::send_syn_ack(r, true, e);
    // RFC 6298 section 5.5: each timeout doubles the wait, up to RTO.max.
    const time::Duration wait = std::min(config_.tcp.rto_initial * (std::int64_t{1} << r.retransmits),
                                         config_.tcp.rto_max);
    wheel_.arm(r.timer, now + wait);
}

void Engine::free_half_open(HalfOpenRecord& r) noexcept {
    wheel_.cancel(r.timer);
    half_open_.erase(r);
    r.listener->half_open.erase(r.listener->half_open.iterator_to(r));
    half_open_pool_.release(&r);
}

std::uint32_t Engine::ts_offset(const tcp::FourTuple& tuple) const noexcept {
    return static_cast<std::uint32_t>(siphash24(ts_key_, tuple.key_bytes()));
}

bool Engine::handle_time_wait(TimeWaitRecord& r, const wire::TcpSegment& seg, time::Instant now) noexcept {
    auto e = env(now);
    switch (tcp::time_wait_arrives(r, seg, e)) {
    case tcp::TimeWaitAction::keep: return true;
    case tcp::TimeWaitAction::restart:
        wheel_.arm(r.timer, now + config_.tcp.msl + config_.tcp.msl);
        return true;
    case tcp::TimeWaitAction::reopen: free_time_wait(r); return false;
    }
    return true;
}

void Engine::shrink_to_time_wait(Conn& c, time::Instant now) noexcept {
    TimeWaitRecord* r = time_wait_pool_.acquire();
    if (r == nullptr) {
        ++counters_.time_wait_full; // the whole connection waits out TIME-WAIT
        return;
    }
    static_cast<tcp::TimeWait&>(*r) = tcp::time_wait_of(c);
    const auto index = static_cast<std::uint32_t>(c.user_id);
    const ConnId id{index, generation_[index]};
    // As far as the application goes the connection is over: both FINs are
    // acknowledged and every byte read.
    if (!c.app_closed) {
        if (config_.ready_list) {
            make_ready(index, &c, tcp::ConnEvent::closed);
        } else if (!events_.push(Event{id, tcp::ConnEvent::closed, tcp::CloseReason::normal})) {
            ++counters_.events_lost;
        }
    }
    free_conn(c, now); // out of the flow table first: the record takes its tuple
    const bool inserted = time_wait_.insert(*r); // as many table entries as records
    SYNACK_ASSERT(inserted);
    // 2 MSL from now: at least what RFC 9293 section 3.4.2 asks, counted
    // from the moment it shrinks (later than entry if the application was
    // still reading).
    wheel_.arm(r->timer, now + config_.tcp.msl + config_.tcp.msl);
    ++counters_.time_wait_compacted;
}

void Engine::free_time_wait(TimeWaitRecord& r) noexcept {
    wheel_.cancel(r.timer);
    time_wait_.erase(r);
    time_wait_pool_.release(&r);
}

bool Engine::tuple_in_use(const tcp::FourTuple& tuple) noexcept {
    return conns_.find(tuple) != nullptr || time_wait_.find(tuple) != nullptr || half_open_.find(tuple) != nullptr;
}

Engine::Conn* Engine::new_conn(const tcp::FourTuple& tuple) noexcept {
    if (free_slots_.empty()) {
        return nullptr;
    }
    Conn* c = conn_pool_.acquire(config_.tcp);
    if (c == nullptr) {
        return nullptr;
    }
    c->tuple = tuple;
    c->ts_offset = ts_offset(tuple);
    if (!conns_.insert(*c)) {
        conn_pool_.release(c);
        return nullptr;
    }
    const std::uint32_t index = free_slots_.back();
    free_slots_.pop_back();
    slots_[index] = c;
    c->user_id = index;
    ++counters_.connections_opened;
    return c;
}

Engine::Conn* Engine::lookup(ConnId id) noexcept {
    if (id.index >= slots_.size() || generation_[id.index] != id.generation) {
        return nullptr;
    }
    Conn* c = slots_[id.index];
    // Closed by the application: the engine finishes it alone.
    return c != nullptr && !c->app_closed ? c : nullptr;
}

void Engine::mark_dirty(Conn& c) noexcept {
    if (!c.dirty) {
        c.dirty = true;
        dirty_.push_back(&c);
    }
}

void Engine::touched(Conn& c) noexcept {
    mark_dirty(c);
    if (!config_.ready_list) {
        flush(now_);
    }
}

void Engine::flush(time::Instant now) noexcept {
    auto e = env(now);
    // One output() per connection per burst: ACKs and data batch up.
    for (Conn* c : dirty_) {
        tcp::output(*c, e);
    }
    // Events first: moving a new connection to a full accept queue resets it,
    // and that RST must go out with the rest.
    collect_events();
    wrap_and_queue();
    reap(now);
}

void Engine::wrap_and_queue() noexcept {
    while (!out_.empty()) {
        tcp::OutSegment seg = out_.pop();
        send_ipv4(std::move(seg.packet), v4_of(seg.tuple.remote_addr), wire::ip_proto::tcp);
    }
}

void Engine::send_ipv4(wire::MbufPtr packet, wire::Ipv4Addr dst, std::uint8_t protocol) noexcept {
    wire::Ipv4Repr ip;
    ip.src = config_.ipv4;
    ip.dst = dst;
    ip.protocol = protocol;
    ip.id = ip_id_++;
    if (!wire::prepend_ipv4(packet.get(), ip)) {
        counters_.tcp.drops.add(tcp::DropReason::no_mbuf);
        return;
    }
    if (config_.next_hop_mac) {
        transmit(std::move(packet), *config_.next_hop_mac);
        return;
    }
    const std::uint32_t mask = config_.prefix_len == 0 ? 0 : ~std::uint32_t{0} << (32 - config_.prefix_len);
    wire::Ipv4Addr hop = dst;
    if ((dst.value & mask) != (config_.ipv4.value & mask)) {
        if (!config_.gateway) {
            drop(FrameDrop::no_route);
            return;
        }
        hop = *config_.gateway;
    }
    const net::NeighborCache::Route route = neighbors_.resolve(hop, packet, now_);
    if (route.mac) {
        transmit(std::move(packet), *route.mac);
    }
    if (route.ask) {
        send_arp(static_cast<std::uint16_t>(wire::ArpOp::request), wire::MacAddr{}, hop, wire::MacAddr::broadcast());
    }
}

void Engine::transmit(wire::MbufPtr packet, wire::MacAddr dst) noexcept {
    rte_mbuf* m = packet.get();
    if (!wire::prepend_ethernet(m, wire::EthernetRepr{dst, config_.mac, wire::ethertype::ipv4})) {
        counters_.tcp.drops.add(tcp::DropReason::no_mbuf);
        return;
    }
    const std::uint8_t protocol = rte_pktmbuf_mtod_offset(m, const std::uint8_t*, m->l2_len)[9];
    const bool tcp = protocol == wire::ip_proto::tcp;
    if (tcp) {
        wire::finalize_checksums(m, config_.tx_checksum);
    } else {
        wire::finalize_ipv4_checksum(m, config_.tx_checksum);
    }
    if (!tx_.push(m)) {
        ++counters_.tx_queue_full;
        return; // packet frees it
    }
    (void)packet.release();
    if (tcp) {
        ++counters_.tcp.segments_out;
        counters_.tcp.retransmits += wire::is_retransmission(m) ? 1 : 0;
    }
}

void Engine::send_arp(std::uint16_t op, wire::MacAddr target_mac, wire::Ipv4Addr target_ip,
                      wire::MacAddr to) noexcept {
    wire::MbufPtr m(rte_pktmbuf_alloc(ctrl_pool_));
    char* room = m ? rte_pktmbuf_append(m.get(), wire::arp_len) : nullptr;
    if (room == nullptr) {
        counters_.tcp.drops.add(tcp::DropReason::no_mbuf);
        return;
    }
    const wire::ArpRepr arp{op, config_.mac, config_.ipv4, target_mac, target_ip};
    arp.emit({reinterpret_cast<std::uint8_t*>(room), wire::arp_len});
    if (!wire::prepend_ethernet(m.get(), wire::EthernetRepr{to, config_.mac, wire::ethertype::arp}) ||
        !tx_.push(m.get())) {
        ++counters_.tx_queue_full;
        return;
    }
    (void)m.release();
    ++(op == static_cast<std::uint16_t>(wire::ArpOp::request) ? counters_.arp_requests_sent
                                                             : counters_.arp_replies_sent);
}

void Engine::announce() noexcept {
    // RFC 5227 section 2.3: sender and target IP both ours, to everyone.
    send_arp(static_cast<std::uint16_t>(wire::ArpOp::request), wire::MacAddr{}, config_.ipv4,
             wire::MacAddr::broadcast());
}

void Engine::handle_arp(wire::Bytes payload, time::Instant now) noexcept {
    auto arp = wire::parse_arp(payload);
    if (!arp) {
        ++counters_.wire_errors[static_cast<std::size_t>(arp.error())];
        drop(FrameDrop::malformed);
        return;
    }
    if (arp->sender_ip == config_.ipv4) {
        drop(FrameDrop::arp_conflict); // someone else claims our address
        return;
    }
    // RFC 826, "Packet Reception": merge the sender into an entry we have,
    // make one when the packet is for us, answer a request for us.
    const bool for_us = arp->target_ip == config_.ipv4;
    if (arp->sender_ip.value != 0 && !arp->sender_mac.is_multicast()) {
        neighbors_.learn(arp->sender_ip, arp->sender_mac, for_us, now,
                         [this](rte_mbuf* m, wire::MacAddr mac) noexcept { transmit(wire::MbufPtr(m), mac); });
    }
    if (for_us && arp->is_request() && config_.arp_responder) {
        send_arp(static_cast<std::uint16_t>(wire::ArpOp::reply), arp->sender_mac, arp->sender_ip, arp->sender_mac);
    }
}

void Engine::handle_icmp(const wire::Ipv4Packet& ip, time::Instant) noexcept {
    auto icmp = wire::parse_icmpv4(ip.payload(), wire::ChecksumCheck::verify());
    if (!icmp) {
        ++counters_.wire_errors[static_cast<std::size_t>(icmp.error())];
        drop(FrameDrop::malformed);
        return;
    }
    if (icmp->type() != wire::icmp_type::echo_request || icmp->code() != 0) {
        drop(FrameDrop::not_tcp); // errors about our segments: not acted upon yet
        return;
    }
    // RFC 792 / RFC 1122 section 3.2.2.6: the reply carries the request's
    // identifier, sequence number and data.
    if (send_icmp(wire::Icmpv4Repr::echo_reply_to(*icmp), ip.src())) {
        ++counters_.icmp_echo_replies;
    }
}

bool Engine::send_icmp(const wire::Icmpv4Repr& message, wire::Ipv4Addr dst) noexcept {
    wire::MbufPtr m(rte_pktmbuf_alloc(pool_));
    char* room = m ? rte_pktmbuf_append(m.get(), static_cast<std::uint16_t>(message.len())) : nullptr;
    if (room == nullptr) {
        counters_.tcp.drops.add(tcp::DropReason::no_mbuf);
        return false;
    }
    message.emit({reinterpret_cast<std::uint8_t*>(room), message.len()});
    send_ipv4(std::move(m), dst, wire::ip_proto::icmp);
    return true;
}

void Engine::send_unreachable(const wire::Ipv4Packet& ip, std::uint8_t code, time::Instant now) noexcept {
    // RFC 1122 section 3.2.2: never about a datagram sent to a broadcast or
    // multicast address (ours only get here), nor from an address that is
    // not one host's; never about a non-first fragment (dropped before).
    const std::uint8_t first = static_cast<std::uint8_t>(ip.src().value >> 24);
    if (ip.src().value == 0 || ip.src().value == 0xffffffff || first >= 224 || first == 127) {
        return;
    }
    if (now - icmp_window_start_ >= time::Duration::from_s(1)) {
        icmp_window_start_ = now;
        icmp_errors_in_window_ = 0;
    }
    if (icmp_errors_in_window_ >= config_.icmp_errors_per_second) {
        ++counters_.icmp_errors_limited;
        return;
    }
    ++icmp_errors_in_window_;
    // The offending datagram's header and as much of its data as keeps the
    // error within 576 bytes (RFC 1812 section 4.3.2.3; Linux does the same).
    const wire::Bytes original = ip.datagram();
    const std::size_t quoted = std::min<std::size_t>(original.size(), 576 - 20 - wire::icmp_header_len);
    const wire::Icmpv4Repr error{wire::icmp_type::dest_unreachable, code, 0, original.first(quoted)};
    if (send_icmp(error, ip.src())) {
        ++counters_.icmp_errors_sent;
    }
}

void Engine::make_ready(std::uint32_t index, Conn* c, tcp::ConnEvent e) noexcept {
    if (c != nullptr && e == tcp::ConnEvent::connected && c->passive) {
        // A passive open goes to the application as it completes, unless
        // its listener is gone (as Linux: no application will hold it).
        if (find_listener(c->listen_port) == nullptr) {
            auto env_now = env(now_);
            tcp::abort(*c, env_now);
            c->app_closed = true;
            mark_dirty(*c);
            return;
        }
    }
    if (c != nullptr && e == tcp::ConnEvent::closed && c->close_reason == tcp::CloseReason::normal &&
        c->recv.bytes() != 0) {
        c->closed_unread = true; // told closed once it is read (reap)
        return;
    }
    if (c == nullptr || c->ready_index == Conn::not_ready) {
        if (ready_.size() == ready_.capacity()) {
            ++counters_.events_lost; // cannot happen: see the reserve in the constructor
            return;
        }
        ready_.push_back(
            ReadyEntry{ConnId{index, generation_[index]}, 0, tcp::CloseReason::normal, 0});
        if (c != nullptr) {
            c->ready_index = static_cast<std::uint32_t>(ready_.size() - 1);
        }
    }
    ReadyEntry& r = c != nullptr ? ready_[c->ready_index] : ready_.back();
    r.what |= ready_bit(e);
    if (c != nullptr && e == tcp::ConnEvent::closed) {
        r.reason = c->close_reason;
    }
    if (c != nullptr && e == tcp::ConnEvent::connected && c->passive) {
        r.listen_port = c->listen_port;
    }
}

void Engine::forget_ready(Conn& c) noexcept {
    if (c.app_closed && c.ready_index != Conn::not_ready) {
        ready_[c.ready_index].what = 0;
        c.ready_index = Conn::not_ready;
    }
}

std::size_t Engine::ready(ReadyEntry* out, std::size_t max) noexcept {
    std::size_t n = 0;
    while (n < max && ready_head_ < ready_.size()) {
        const ReadyEntry& r = ready_[ready_head_++];
        if (r.what == 0) {
            continue; // listed before the application closed it (forget_ready)
        }
        if (Conn* c = lookup(r.conn)) {
            c->ready_index = Conn::not_ready;
        }
        out[n++] = r;
    }
    if (ready_head_ == ready_.size()) {
        ready_.clear();
        ready_head_ = 0;
    }
    return n;
}

void Engine::collect_events() noexcept {
    while (!tcp_events_.empty()) {
        const tcp::EventRecord r = tcp_events_.pop();
        const auto index = static_cast<std::uint32_t>(r.user_id);
        Conn* c = slots_[index];
        if (c != nullptr && c->app_closed) {
            continue; // the application closed it and hears no more of it
        }
        if (config_.ready_list) {
            make_ready(index, c, r.event);
            continue;
        }
        Event ev{ConnId{index, generation_[index]}, r.event};
        if (r.event == tcp::ConnEvent::closed && c != nullptr) {
            ev.reason = c->close_reason;
        }
        if (r.event == tcp::ConnEvent::connected && c != nullptr && c->passive) {
            // A passive open completed: to the accept queue.
            if (Listener* l = find_listener(c->listen_port)) {
                if (!l->accept_queue.push(ev.conn)) {
                    drop(FrameDrop::accept_queue_full);
                    auto e = env(now_);
                    tcp::abort(*c, e);
                    mark_dirty(*c);
                    continue;
                }
            }
        }
        if (!events_.push(ev)) {
            ++counters_.events_lost;
        }
    }
}

void Engine::reap(time::Instant now) noexcept {
    // abort() above may queue a RST and a closed event: handle them too.
    for (std::size_t i = 0; i < dirty_.size(); ++i) {
        Conn* c = dirty_[i];
        c->dirty = false;
        if (c->state == tcp::TcpState::closed) {
            if (c->closed_unread && !c->app_closed) {
                if (c->recv.bytes() != 0) {
                    if (c->flow_hook.is_linked()) {
                        conns_.erase(*c); // nothing more arrives for it
                    }
                    continue;
                }
                make_ready(static_cast<std::uint32_t>(c->user_id), c, tcp::ConnEvent::closed);
            }
            free_conn(*c, now);
        } else if (c->state == tcp::TcpState::time_wait && c->recv.bytes() == 0) {
            shrink_to_time_wait(*c, now);
        }
    }
    dirty_.clear();
}

void Engine::free_conn(Conn& c, time::Instant now) noexcept {
    auto e = env(now);
    if (c.flow_hook.is_linked()) {
        conns_.erase(c);
    }
    tcp::release_resources(c, e);
    const std::uint32_t index = static_cast<std::uint32_t>(c.user_id);
    slots_[index] = nullptr;
    ++generation_[index];
    free_slots_.push_back(index);
    conn_pool_.release(&c);
    ++counters_.connections_closed;
}

Engine::Listener* Engine::find_listener(std::uint16_t port) noexcept {
    for (auto& l : listeners_) {
        if (l->port == port) {
            return l.get();
        }
    }
    return nullptr;
}

Status<ListenError> Engine::listen(std::uint16_t port) noexcept {
    if (find_listener(port) != nullptr) {
        return Err{ListenError::port_in_use};
    }
    if (listeners_.size() >= config_.max_listeners) {
        return Err{ListenError::too_many_listeners};
    }
    listeners_.push_back(std::make_unique<Listener>(port, config_.accept_backlog));
    return {};
}

void Engine::unlisten(std::uint16_t port) noexcept {
    Listener* l = find_listener(port);
    if (l == nullptr) {
        return;
    }
    // As Linux closing a listener: half-open connections are forgotten, and
    // those established but never accepted are reset, since no application
    // will ever hold them.
    while (!l->half_open.empty()) {
        free_half_open(l->half_open.front());
    }
    auto e = env(now_);
    while (!l->accept_queue.empty()) {
        if (Conn* c = lookup(l->accept_queue.pop())) {
            tcp::abort(*c, e);
            mark_dirty(*c);
        }
    }
    std::erase_if(listeners_, [&](const auto& p) { return p.get() == l; });
    if (!config_.ready_list) {
        flush(now_);
    }
}

Result<ConnId, ConnectError> Engine::connect(wire::Ipv4Addr dst, std::uint16_t port,
                                             time::Instant now, std::uint16_t local_port) noexcept {
    now_ = now;
    tcp::FourTuple tuple{tcp::FourTuple::mapped(config_.ipv4), tcp::FourTuple::mapped(dst), local_port, port};
    const std::uint32_t range = config_.ephemeral_port_max - config_.ephemeral_port_min + 1u;
    bool found = local_port != 0 && !tuple_in_use(tuple);
    for (std::uint32_t tries = 0; tries < range && !found && local_port == 0; ++tries) {
        tuple.local_port = next_port_;
        next_port_ = next_port_ == config_.ephemeral_port_max ? config_.ephemeral_port_min
                                                              : static_cast<std::uint16_t>(next_port_ + 1);
        found = (!config_.owns_tuple || config_.owns_tuple(tuple)) && !tuple_in_use(tuple);
    }
    if (!found) {
        return Err{ConnectError::no_local_port};
    }
    Conn* c = new_conn(tuple);
    if (c == nullptr) {
        return Err{ConnectError::no_connection_slot};
    }
    const ConnId id{static_cast<std::uint32_t>(c->user_id), generation_[c->user_id]};
    auto e = env(now);
    if (!tcp::open_active(*c, isn_.isn(tuple, now), e)) {
        free_conn(*c, now);
        return Err{ConnectError::no_mbuf};
    }
    touched(*c);
    return id;
}

std::optional<ConnId> Engine::accept(std::uint16_t port) noexcept {
    Listener* l = find_listener(port);
    while (l != nullptr && !l->accept_queue.empty()) {
        const ConnId id = l->accept_queue.pop();
        if (lookup(id) != nullptr) {
            return id;
        }
    }
    return std::nullopt;
}

std::size_t Engine::events(Event* out, std::size_t max) noexcept {
    std::size_t n = 0;
    while (n < max && !events_.empty()) {
        out[n++] = events_.pop();
    }
    return n;
}

namespace {

Status<ConnError> conn_error(const Status<tcp::SendCallError>& r) noexcept {
    if (!r.ok()) {
        switch (r.error()) {
        case tcp::SendCallError::not_connected: return Err{ConnError::not_connected};
        case tcp::SendCallError::write_closed: return Err{ConnError::write_closed};
        case tcp::SendCallError::no_room: return Err{ConnError::no_room};
        }
    }
    return {};
}

} // namespace

Status<ConnError> Engine::send(ConnId id, wire::MbufPtr& data) noexcept {
    Conn* c = lookup(id);
    if (c == nullptr) {
        return Err{ConnError::stale_id};
    }
    auto e = env(now_);
    auto r = tcp::send(*c, data, e);
    if (r.ok()) {
        touched(*c);
    }
    return conn_error(r);
}

Status<ConnError> Engine::check_send(ConnId id) noexcept {
    Conn* c = lookup(id);
    if (c == nullptr) {
        return Err{ConnError::stale_id};
    }
    return conn_error(tcp::check_send(*c));
}

std::size_t Engine::peek(ConnId id, wire::Bytes* out, std::size_t max) noexcept {
    Conn* c = lookup(id);
    return c == nullptr ? 0 : c->recv.peek(out, max);
}

void Engine::consume(ConnId id, std::uint32_t n) noexcept {
    if (Conn* c = lookup(id)) {
        auto e = env(now_);
        tcp::consumed(*c, std::min(n, c->recv.bytes()), e);
        touched(*c);
    }
}

wire::MbufPtr Engine::take(ConnId id, std::uint32_t max_bytes) noexcept {
    Conn* c = lookup(id);
    if (c == nullptr) {
        return {};
    }
    auto e = env(now_);
    wire::MbufPtr taken = tcp::take(*c, max_bytes, e);
    touched(*c);
    return taken;
}

std::uint32_t Engine::readable(ConnId id) noexcept {
    Conn* c = lookup(id);
    return c == nullptr ? 0 : c->recv.bytes();
}

std::uint32_t Engine::writable(ConnId id) noexcept {
    Conn* c = lookup(id);
    return c == nullptr ? 0 : c->send.space();
}

void Engine::shutdown(ConnId id) noexcept {
    if (Conn* c = lookup(id)) {
        auto e = env(now_);
        tcp::shutdown_write(*c, e);
        touched(*c);
    }
}

void Engine::close(ConnId id) noexcept {
    if (Conn* c = lookup(id)) {
        auto e = env(now_);
        if (c->rst_on_close) {
            tcp::abort(*c, e);
            c->app_closed = true; // as after a close: no more events
        } else {
            tcp::close(*c, e);
        }
        forget_ready(*c);
        touched(*c);
    }
}

void Engine::abort(ConnId id) noexcept {
    if (Conn* c = lookup(id)) {
        auto e = env(now_);
        tcp::abort(*c, e);
        c->app_closed = config_.ready_list; // the API's handle is stale at once
        forget_ready(*c);
        touched(*c);
    }
}

std::optional<tcp::TcpState> Engine::state(ConnId id) noexcept {
    Conn* c = lookup(id);
    if (c == nullptr) {
        return std::nullopt;
    }
    return c->state;
}

std::optional<tcp::FourTuple> Engine::tuple(ConnId id) noexcept {
    Conn* c = lookup(id);
    if (c == nullptr) {
        return std::nullopt;
    }
    return c->tuple;
}

void Engine::set_nagle(ConnId id, bool on) noexcept {
    if (Conn* c = lookup(id)) {
        c->nagle = on;
    }
}

void Engine::set_keepalive(ConnId id, const tcp::KeepaliveConfig& k) noexcept {
    Conn* c = lookup(id);
    if (c == nullptr) {
        return;
    }
    auto e = env(now_);
    tcp::set_keepalive(*c, k, e);
}

void Engine::set_rst_on_close(ConnId id, bool on) noexcept {
    if (Conn* c = lookup(id)) {
        c->rst_on_close = on;
    }
}

const EngineCounters& Engine::counters() noexcept {
    counters_.connections_by_state.fill(0);
    for (const Conn* c : slots_) {
        if (c != nullptr) {
            ++counters_.connections_by_state[static_cast<std::size_t>(c->state)];
        }
    }
    counters_.connections_by_state[static_cast<std::size_t>(tcp::TcpState::time_wait)] += time_wait_.size();
    counters_.neighbors = neighbors_.counters();
    return counters_;
}

} // namespace synack::engine
