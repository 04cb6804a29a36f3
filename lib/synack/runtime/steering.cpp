#include <synack/runtime/steering.hpp>

#include <synack/runtime/log.hpp>
#include <synack/wire/bytes.hpp>
#include <synack/wire/ethernet.hpp>
#include <synack/wire/ip_proto.hpp>

#include <rte_errno.h>
#include <rte_ethdev.h>

#include <fmt/core.h>

namespace synack::runtime {

const char* to_string(SteeringMode m) noexcept {
    switch (m) {
    case SteeringMode::single: return "single";
    case SteeringMode::rss: return "rss";
    case SteeringMode::software: return "software";
    }
    return "?";
}

Steering::Steering(unsigned workers, unsigned rx_queues, unsigned tx_queues, std::span<const std::uint8_t> key)
    : workers_(workers), rx_queues_(rx_queues), tx_queues_(tx_queues), toeplitz_(key),
      rings_(std::size_t{workers} * workers, nullptr), tx_rings_(workers, nullptr) {}

Result<std::unique_ptr<Steering>, PortError> Steering::create(const Port& port, unsigned workers) noexcept {
    return create(port.id(), workers, port.rx_queues(), port.tx_queues(), port.rss());
}

Result<std::unique_ptr<Steering>, PortError> Steering::create(std::uint16_t port_id, unsigned workers,
                                                              unsigned rx_queues, unsigned tx_queues,
                                                              const std::optional<RssState>& rss) noexcept {
    workers = std::max(workers, 1u);
    // RSS steers only onto queues, so every loop needs one; with fewer
    // queues than loops, the loops without one would own nothing.
    const bool use_rss = workers > 1 && rx_queues >= workers && rss && !rss->reta.empty() &&
                         (rss->hash_functions & RTE_ETH_RSS_NONFRAG_IPV4_TCP) != 0;
    const auto symmetric = symmetric_rss_key();
    std::unique_ptr<Steering> s(new Steering(workers, rx_queues, std::max(tx_queues, 1u),
                                             use_rss ? std::span<const std::uint8_t>(rss->key)
                                                     : std::span<const std::uint8_t>(symmetric)));
    if (use_rss) {
        s->reta_ = rss->reta;
    }
    s->mode_ = workers == 1 ? SteeringMode::single : use_rss ? SteeringMode::rss : SteeringMode::software;
    // The rings live near the port (a port id that names none, in tests: anywhere).
    const int socket = rte_eth_dev_is_valid_port(port_id) != 0 && rte_eth_dev_socket_id(port_id) >= 0
                           ? rte_eth_dev_socket_id(port_id)
                           : SOCKET_ID_ANY;
    for (unsigned from = 0; from < workers; ++from) {
        for (unsigned to = 0; to < workers; ++to) {
            if (from == to) {
                continue;
            }
            const std::string name = fmt::format("synack_s{}_{}_{}", port_id, from, to);
            s->rings_[from * workers + to] =
                rte_ring_create(name.c_str(), ring_size, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
            if (s->rings_[from * workers + to] == nullptr) {
                return Err{PortError{"rte_ring_create", rte_errno}};
            }
        }
        if (!s->tx_queue(from)) {
            const std::string name = fmt::format("synack_t{}_{}", port_id, from);
            s->tx_rings_[from] = rte_ring_create(name.c_str(), ring_size, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
            if (s->tx_rings_[from] == nullptr) {
                return Err{PortError{"rte_ring_create", rte_errno}};
            }
        }
    }
    if (workers > 1) {
        const std::string why = use_rss                ? fmt::format("the port's {}-entry RETA", rss->reta.size())
                                : rx_queues == 1       ? std::string("one RX queue")
                                : rx_queues < workers  ? std::string("fewer RX queues than run loops")
                                : rss                  ? std::string("the port's RSS does not hash TCP ports")
                                                       : std::string("the port reports no RSS of its own");
        log(RTE_LOG_NOTICE, "port {}: {} run loops on {} RX / {} TX queues, steering {} ({})", port_id, workers,
            rx_queues, tx_queues, to_string(s->mode()), why);
    }
    return s;
}

Steering::~Steering() {
    auto free_all = [](rte_ring* r) {
        if (r == nullptr) {
            return;
        }
        void* m = nullptr;
        while (rte_ring_dequeue(r, &m) == 0) {
            rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
        }
        rte_ring_free(r);
    };
    for (rte_ring* r : rings_) {
        free_all(r);
    }
    for (rte_ring* r : tx_rings_) {
        free_all(r);
    }
}

std::vector<std::uint16_t> Steering::rx_queues(unsigned w) const {
    std::vector<std::uint16_t> queues;
    for (unsigned q = w; q < rx_queues_; q += workers_) {
        queues.push_back(static_cast<std::uint16_t>(q));
    }
    return queues;
}

unsigned Steering::owner(const rte_mbuf* m, unsigned here, SteeringCounters& counters) noexcept {
    const auto* p = rte_pktmbuf_mtod(m, const std::uint8_t*);
    const std::uint32_t len = rte_pktmbuf_data_len(m);
    constexpr std::uint32_t eth_len = 14;
    if (len < eth_len + 20) {
        return len >= eth_len && wire::load_be16(p + 12) == wire::ethertype::arp ? everyone : here;
    }
    const std::uint16_t type = wire::load_be16(p + 12);
    if (type == wire::ethertype::arp) {
        return everyone;
    }
    const std::uint8_t* ip = p + eth_len;
    const std::uint32_t ihl = (ip[0] & 0x0fu) * 4;
    if (type != wire::ethertype::ipv4 || (ip[0] >> 4) != 4 || ihl < 20) {
        return here;
    }
    const wire::Ipv4Addr src = wire::Ipv4Addr::load(ip + 12);
    const wire::Ipv4Addr dst = wire::Ipv4Addr::load(ip + 16);
    const bool fragment = (wire::load_be16(ip + 6) & 0x3fffu) != 0; // MF or an offset: no ports to hash
    if (ip[9] != wire::ip_proto::tcp || fragment || len < eth_len + ihl + 4) {
        return owner_of_hash(toeplitz_.ipv4(src, dst));
    }
    const std::uint8_t* tcp = ip + ihl;
    const std::uint32_t hash = toeplitz_.ipv4_tcp(src, dst, wire::load_be16(tcp), wire::load_be16(tcp + 2));
    const unsigned o = owner_of_hash(hash);
    if (!reta_.empty()) {
        // The port said how it hashes: hold it to that.
        const std::uint32_t nic_hash = (m->ol_flags & RTE_MBUF_F_RX_RSS_HASH) != 0 ? m->hash.rss : hash;
        if (o != here || nic_hash != hash) {
            ++counters.rss_mismatches;
            rss_disagrees(here, o, hash, nic_hash);
        }
    }
    return o;
}

void Steering::rss_disagrees(unsigned here, unsigned owner, std::uint32_t hash, std::uint32_t nic_hash) noexcept {
    // Owners stay as the RETA named them at start: changing the rule now
    // would move live connections. Only the packets the port misplaces take
    // the ring, and the counters say how many.
    if (!warned_.exchange(true, std::memory_order_relaxed)) {
        mode_.store(SteeringMode::software, std::memory_order_relaxed);
        log(RTE_LOG_WARNING, "the port's RSS disagrees with the software hash: a TCP packet for run loop {} arrived "
            "on loop {}'s queue (software hash {:#010x}, port's {:#010x}); such packets are passed to their owner "
            "over a ring from now on",
            owner, here, hash, nic_hash);
    }
}

bool Steering::owns(unsigned w, const tcp::FourTuple& t) const noexcept {
    return owns(w, wire::Ipv4Addr::load(t.local_addr.bytes.data() + 12), t.local_port,
                wire::Ipv4Addr::load(t.remote_addr.bytes.data() + 12), t.remote_port);
}

bool Steering::owns(unsigned w, wire::Ipv4Addr local, std::uint16_t local_port,
                    wire::Ipv4Addr remote, std::uint16_t remote_port) const noexcept {
    if (workers_ == 1) {
        return true;
    }
    // Replies arrive from the remote end: hash them as the port will.
    return owner_of_hash(toeplitz_.ipv4_tcp(remote, local, remote_port, local_port)) == w;
}

} // namespace synack::runtime
