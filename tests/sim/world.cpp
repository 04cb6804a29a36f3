#include "sim/world.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cstring>

namespace synack::sim {

std::uint64_t mix64(std::uint64_t x) noexcept {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

Rng::Rng(std::uint64_t seed) noexcept {
    for (auto& s : s_) {
        seed += 0x9e3779b97f4a7c15ULL;
        s = mix64(seed);
    }
}

std::uint64_t Rng::next() noexcept {
    const auto rotl = [](std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); };
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
}

std::string LinkProfile::describe() const {
    std::string s = fmt::format("loss {:.0f}% dup {:.0f}% reorder {:.0f}% corrupt {:.0f}% delay {}us",
                                loss * 100, duplicate * 100, reorder * 100, corrupt * 100, delay.us());
    if (jitter.us() != 0) {
        s += fmt::format(" jitter {}us", jitter.us());
    }
    if (rate_bps != 0) {
        s += fmt::format(" rate {}Mbit/s queue {}B", rate_bps / 1'000'000, queue_bytes);
    }
    return s;
}

LinkCounters& LinkCounters::operator+=(const LinkCounters& o) noexcept {
    sent += o.sent;
    delivered += o.delivered;
    lost += o.lost;
    duplicated += o.duplicated;
    reordered += o.reordered;
    corrupted += o.corrupted;
    queue_drops += o.queue_drops;
    black_holed += o.black_holed;
    return *this;
}

namespace {

bool later(const auto& x, const auto& y) noexcept {
    return x.at != y.at ? x.at > y.at : x.order > y.order;
}

/// A copy of the frame in one fresh mbuf, or nullptr when the pool is empty.
rte_mbuf* copy_frame(const rte_mbuf* m, rte_mempool* pool) noexcept {
    rte_mbuf* c = rte_pktmbuf_alloc(pool);
    if (c == nullptr) {
        return nullptr;
    }
    char* dst = rte_pktmbuf_append(c, static_cast<std::uint16_t>(m->pkt_len));
    if (dst == nullptr) {
        rte_pktmbuf_free(c);
        return nullptr;
    }
    for (const rte_mbuf* s = m; s != nullptr; s = s->next) {
        std::memcpy(dst, rte_pktmbuf_mtod(s, const char*), s->data_len);
        dst += s->data_len;
    }
    return c;
}

} // namespace

Link::Link(const LinkProfile& profile, std::uint64_t seed, rte_mempool* pool)
    : profile_(profile), rng_(seed), pool_(pool) {}

Link::~Link() {
    for (auto& f : flight_) {
        rte_pktmbuf_free(f.m);
    }
}

void Link::send(rte_mbuf* frame, time::Instant now) noexcept {
    ++counters_.sent;
    // The wire carries bytes: a copy goes on, the sender's mbuf is done with.
    rte_mbuf* m = copy_frame(frame, pool_);
    const std::uint32_t len = frame->pkt_len;
    rte_pktmbuf_free(frame);
    if (m == nullptr) {
        ++counters_.queue_drops; // no buffer: as a full NIC queue
        return;
    }
    if (black_hole_) {
        ++counters_.black_holed;
        rte_pktmbuf_free(m);
        return;
    }
    time::Instant depart = now;
    if (profile_.rate_bps != 0) {
        const time::Instant start = std::max(now, busy_until_);
        const auto backlog_bytes =
            static_cast<std::uint64_t>((start - now).us()) * profile_.rate_bps / 8'000'000;
        if (profile_.queue_bytes != 0 && backlog_bytes > profile_.queue_bytes) {
            ++counters_.queue_drops;
            rte_pktmbuf_free(m);
            return;
        }
        // Ethernet adds preamble, FCS and gap: 24 bytes a frame.
        busy_until_ = start + time::Duration::from_us(static_cast<std::int64_t>(
                                  (len + 24) * 8'000'000ULL / profile_.rate_bps));
        depart = busy_until_;
    }
    if (rng_.chance(profile_.loss)) {
        ++counters_.lost;
        rte_pktmbuf_free(m);
        return;
    }
    if (rng_.chance(profile_.corrupt)) {
        // Corruption that gets past Ethernet's FCS happens above it, in a
        // router's or a NIC's memory: in an IP packet, never in the Ethernet
        // header or in ARP, which no router forwards (and which has no
        // checksum a receiver could check).
        auto* bytes = rte_pktmbuf_mtod(m, std::uint8_t*);
        constexpr std::uint16_t eth_len = 14;
        const bool ip = m->data_len > eth_len && ((bytes[12] == 0x08 && bytes[13] == 0x00) ||
                                                  (bytes[12] == 0x86 && bytes[13] == 0xdd));
        const std::uint64_t at = eth_len + rng_.below(ip ? m->data_len - eth_len : 1);
        const auto flip = static_cast<std::uint8_t>(rng_.between(1, 255));
        if (ip) { // the draws happen either way, so that a seed's later faults stay put
            ++counters_.corrupted;
            bytes[at] ^= flip;
        }
    }
    const auto arrival = [&] {
        time::Instant at = depart + profile_.delay;
        if (profile_.jitter.us() > 0) {
            at += time::Duration::from_us(static_cast<std::int64_t>(
                rng_.below(static_cast<std::uint64_t>(profile_.jitter.us()) + 1)));
        }
        if (rng_.chance(profile_.reorder)) {
            ++counters_.reordered;
            at += profile_.reorder_delay;
        }
        return at;
    };
    if (rng_.chance(profile_.duplicate)) {
        if (rte_mbuf* d = copy_frame(m, pool_)) {
            ++counters_.duplicated;
            schedule(d, arrival());
        }
    }
    schedule(m, arrival());
}

void Link::schedule(rte_mbuf* m, time::Instant at) noexcept {
    flight_.push_back(Frame{at, order_++, m});
    std::push_heap(flight_.begin(), flight_.end(), [](const Frame& x, const Frame& y) { return later(x, y); });
}

std::uint16_t Link::deliver(time::Instant now, rte_mbuf** out, std::uint16_t max) noexcept {
    std::uint16_t n = 0;
    while (n < max && !flight_.empty() && flight_.front().at <= now) {
        std::pop_heap(flight_.begin(), flight_.end(), [](const Frame& x, const Frame& y) { return later(x, y); });
        out[n++] = flight_.back().m;
        flight_.pop_back();
    }
    counters_.delivered += n;
    return n;
}

std::optional<time::Instant> Link::next_arrival() const noexcept {
    if (flight_.empty()) {
        return std::nullopt;
    }
    return flight_.front().at;
}

PcapWriter::PcapWriter(const std::string& path) : file_(std::fopen(path.c_str(), "wb")) {
    if (file_ == nullptr) {
        return;
    }
    // pcap global header: magic, version 2.4, GMT offset, accuracy, snaplen, Ethernet.
    const std::uint32_t header[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1};
    std::fwrite(header, sizeof header, 1, file_);
}

PcapWriter::~PcapWriter() {
    if (file_ != nullptr) {
        std::fclose(file_);
    }
}

void PcapWriter::write(time::Instant at, const rte_mbuf* frame) {
    if (file_ == nullptr) {
        return;
    }
    const std::uint32_t record[4] = {static_cast<std::uint32_t>(at.us() / 1'000'000),
                                     static_cast<std::uint32_t>(at.us() % 1'000'000), frame->pkt_len,
                                     frame->pkt_len};
    std::fwrite(record, sizeof record, 1, file_);
    for (const rte_mbuf* s = frame; s != nullptr; s = s->next) {
        std::fwrite(rte_pktmbuf_mtod(s, const void*), s->data_len, 1, file_);
    }
}

World::World(const engine::EngineConfig& ca, const engine::EngineConfig& cb, const LinkProfile& a_to_b_profile,
             const LinkProfile& b_to_a_profile, std::uint64_t seed, rte_mempool* mbufs,
             const LinkProfile& station)
    : pool(mbufs), ip_a(ca.ipv4), ip_b(cb.ipv4), now(time::Instant::from_us(1'000'000)), a(ca, mbufs, now),
      b(cb, mbufs, now), a_to_b(a_to_b_profile, mix64(seed ^ 0xab), mbufs),
      b_to_a(b_to_a_profile, mix64(seed ^ 0xba), mbufs), a_to_x(station, mix64(seed ^ 0xa5), mbufs),
      b_to_x(station, mix64(seed ^ 0xb5), mbufs), x_to_a(station, mix64(seed ^ 0x5a), mbufs),
      x_to_b(station, mix64(seed ^ 0x5b), mbufs), mac_a_(ca.mac), mac_b_(cb.mac) {}

World::~World() = default;

bool World::transmit(engine::Engine& from, bool from_a) {
    rte_mbuf* burst[32];
    bool moved = false;
    while (const std::uint16_t n = from.drain(burst, 32)) {
        moved = true;
        for (std::uint16_t i = 0; i < n; ++i) {
            if (pcap_ != nullptr) {
                pcap_->write(now, burst[i]);
            }
            if (observer_) {
                observer_(now, from_a, burst[i]);
            }
            forward(burst[i], from_a);
        }
    }
    return moved;
}

void World::forward(rte_mbuf* frame, bool from_a) {
    // The switch: by the destination MAC, the first six bytes of the frame.
    wire::MacAddr dst;
    std::memcpy(dst.bytes.data(), rte_pktmbuf_mtod(frame, const std::uint8_t*), dst.bytes.size());
    Link& peer = from_a ? a_to_b : b_to_a;
    Link& to_station = from_a ? a_to_x : b_to_x;
    if (dst.is_multicast()) {
        if (station_ != nullptr) {
            if (rte_mbuf* c = copy_frame(frame, pool)) {
                to_station.send(c, now);
            }
        }
        peer.send(frame, now);
    } else if (dst == (from_a ? mac_b_ : mac_a_)) {
        peer.send(frame, now);
    } else if (station_ != nullptr && station_->owns(dst)) {
        to_station.send(frame, now);
    } else {
        ++unknown_destination;
        rte_pktmbuf_free(frame);
    }
}

void World::inject(bool to_a, rte_mbuf* frame) {
    if (pcap_ != nullptr) {
        pcap_->write(now, frame);
    }
    (to_a ? x_to_a : x_to_b).send(frame, now);
}

bool World::receive(Link& link, engine::Engine& to) {
    rte_mbuf* burst[32];
    bool moved = false;
    while (const std::uint16_t n = link.deliver(now, burst, 32)) {
        moved = true;
        to.input(burst, n, now);
    }
    return moved;
}

bool World::receive_station(Link& link, bool from_a) {
    rte_mbuf* burst[32];
    bool moved = false;
    while (const std::uint16_t n = link.deliver(now, burst, 32)) {
        moved = true;
        for (std::uint16_t i = 0; i < n; ++i) {
            if (station_ != nullptr) {
                station_->receive(*this, from_a, burst[i]);
            }
            rte_pktmbuf_free(burst[i]);
        }
    }
    return moved;
}

bool World::pump() {
    bool moved = transmit(a, true);
    moved |= transmit(b, false);
    moved |= receive(a_to_b, b);
    moved |= receive(b_to_a, a);
    moved |= receive(x_to_a, a);
    moved |= receive(x_to_b, b);
    moved |= receive_station(a_to_x, true);
    moved |= receive_station(b_to_x, false);
    return moved;
}

bool World::advance(std::optional<time::Instant> also, time::Instant limit) {
    std::optional<time::Instant> next = also;
    for (auto t : {a.next_wakeup(), b.next_wakeup(), a_to_b.next_arrival(), b_to_a.next_arrival(),
                   a_to_x.next_arrival(), b_to_x.next_arrival(), x_to_a.next_arrival(),
                   x_to_b.next_arrival()}) {
        if (t && (!next || *t < *next)) {
            next = t;
        }
    }
    if (!next || *next > limit) {
        return false;
    }
    now = std::max(now, *next);
    a.poll(now);
    b.poll(now);
    return true;
}

std::size_t World::in_flight() const noexcept {
    return a_to_b.in_flight() + b_to_a.in_flight() + a_to_x.in_flight() + b_to_x.in_flight() +
           x_to_a.in_flight() + x_to_b.in_flight();
}

bool World::quiet() const noexcept {
    return a.connections() == 0 && b.connections() == 0 && a.timers() == 0 && b.timers() == 0 &&
           in_flight() == 0 && a.tx_pending() == 0 && b.tx_pending() == 0;
}

} // namespace synack::sim
