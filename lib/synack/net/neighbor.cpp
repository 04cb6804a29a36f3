#include <synack/net/neighbor.hpp>

#include <boost/intrusive/parent_from_member.hpp>

#include <bit>

namespace synack::net {

std::size_t NeighborCache::Hash::operator()(const wire::Ipv4Addr& ip) const noexcept {
    std::uint8_t bytes[4];
    ip.store(bytes);
    return static_cast<std::size_t>(siphash24(key, std::span<const std::uint8_t>(bytes, sizeof bytes)));
}

NeighborCache::NeighborCache(const NeighborConfig& config, SipKey key, time::TimerWheel& wheel)
    : config_(config), wheel_(wheel), entries_(std::make_unique<Neighbor[]>(config.capacity)),
      pending_(std::make_unique<rte_mbuf*[]>(std::size_t{config.capacity} * config.max_pending)),
      buckets_(std::make_unique<Set::bucket_type[]>(std::bit_ceil(std::max<std::uint32_t>(config.capacity, 2)))),
      set_(Set::bucket_traits(buckets_.get(), std::bit_ceil(std::max<std::uint32_t>(config.capacity, 2))), Hash{key}) {
    free_.reserve(config.capacity);
    for (std::uint32_t i = config.capacity; i > 0; --i) {
        Neighbor& n = entries_[i - 1];
        n.timer.set_kind(neighbor_timer_kind);
        n.pending_first = (i - 1) * config.max_pending;
        free_.push_back(&n);
    }
}

NeighborCache::~NeighborCache() {
    while (!set_.empty()) {
        forget(*set_.begin());
    }
}

Neighbor* NeighborCache::find(wire::Ipv4Addr ip) noexcept {
    auto it = set_.find(ip);
    return it == set_.end() ? nullptr : &*it;
}

Neighbor* NeighborCache::make(wire::Ipv4Addr ip) noexcept {
    if (free_.empty()) {
        ++counters_.cache_full;
        return nullptr;
    }
    Neighbor* n = free_.back();
    free_.pop_back();
    n->ip = ip;
    n->state = Neighbor::State::incomplete;
    n->requests = 0;
    n->pending_count = 0;
    set_.insert(*n);
    return n;
}

void NeighborCache::forget(Neighbor& n) noexcept {
    wheel_.cancel(n.timer);
    drop_pending(n);
    set_.erase(set_.iterator_to(n));
    free_.push_back(&n);
}

void NeighborCache::confirm(Neighbor& n, wire::MacAddr mac, time::Instant now) noexcept {
    if (n.state == Neighbor::State::incomplete) {
        ++counters_.resolved;
    }
    n.mac = mac;
    n.state = Neighbor::State::reachable;
    n.requests = 0;
    wheel_.arm(n.timer, now + config_.reachable);
}

NeighborCache::Route NeighborCache::resolve(wire::Ipv4Addr ip, wire::MbufPtr& packet, time::Instant now) noexcept {
    Neighbor* n = find(ip);
    if (n == nullptr) {
        n = make(ip);
        if (n == nullptr) {
            packet.reset();
            return {};
        }
    }
    switch (n->state) {
    case Neighbor::State::reachable: return {n->mac, false};
    case Neighbor::State::stale: {
        // RFC 1122 section 2.3.2.1: keep using it while it is checked.
        Route r{n->mac, false};
        if (n->requests == 0) {
            n->requests = 1;
            wheel_.arm(n->timer, now + config_.retry);
            ++counters_.requests;
            r.ask = true;
        }
        return r;
    }
    case Neighbor::State::incomplete: break;
    }
    push_pending(*n, packet.release());
    if (n->requests != 0) {
        return {}; // already asked: wait for the answer or the retry
    }
    n->requests = 1;
    wheel_.arm(n->timer, now + config_.retry);
    ++counters_.requests;
    return {std::nullopt, true};
}

std::optional<wire::Ipv4Addr> NeighborCache::timer_fired(time::TimerNode& timer, time::Instant now) noexcept {
    Neighbor& n = *boost::intrusive::get_parent_from_member(&timer, &Neighbor::timer);
    if (n.state == Neighbor::State::reachable) {
        n.state = Neighbor::State::stale; // asked for again at its next use
        n.requests = 0;
        return std::nullopt;
    }
    if (n.requests >= config_.max_requests) {
        if (n.state == Neighbor::State::incomplete) {
            ++counters_.unreachable;
        }
        forget(n);
        return std::nullopt;
    }
    ++n.requests;
    ++counters_.requests;
    wheel_.arm(n.timer, now + config_.retry);
    return n.ip;
}

std::optional<wire::MacAddr> NeighborCache::peek(wire::Ipv4Addr ip) noexcept {
    const Neighbor* n = find(ip);
    if (n == nullptr || n->state == Neighbor::State::incomplete) {
        return std::nullopt;
    }
    return n->mac;
}

void NeighborCache::push_pending(Neighbor& n, rte_mbuf* m) noexcept {
    const std::uint32_t base = static_cast<std::uint32_t>(&n - entries_.get()) * config_.max_pending;
    if (config_.max_pending == 0) {
        rte_pktmbuf_free(m);
        ++counters_.pending_dropped;
        return;
    }
    if (n.pending_count == config_.max_pending) {
        rte_pktmbuf_free(pop_pending(n)); // the latest is worth more (RFC 1122 2.3.2.2)
        ++counters_.pending_dropped;
    }
    const std::uint32_t slot = (n.pending_first - base + n.pending_count) % config_.max_pending;
    pending_[base + slot] = m;
    ++n.pending_count;
}

rte_mbuf* NeighborCache::pop_pending(Neighbor& n) noexcept {
    const std::uint32_t base = static_cast<std::uint32_t>(&n - entries_.get()) * config_.max_pending;
    rte_mbuf* m = pending_[n.pending_first];
    n.pending_first = base + (n.pending_first - base + 1) % config_.max_pending;
    --n.pending_count;
    return m;
}

void NeighborCache::drop_pending(Neighbor& n) noexcept {
    counters_.pending_dropped += n.pending_count;
    while (n.pending_count != 0) {
        rte_pktmbuf_free(pop_pending(n));
    }
}

} // namespace synack::net
