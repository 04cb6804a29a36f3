#include <synack/runtime/port.hpp>

#include <synack/runtime/log.hpp>
#include <synack/runtime/toeplitz.hpp>

#include <rte_errno.h>
#include <rte_ethdev.h>

#include <fmt/core.h>

#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>
#include <utility>

namespace synack::runtime {

namespace {

Err<PortError> failed(const char* call, int rc) {
    return Err{PortError{call, rc < 0 ? -rc : rte_errno}};
}

/// Reads (SIOCGIFMTU) or sets (SIOCSIFMTU) the MTU of kernel interface
/// if_index. Returns 0 or an errno value.
int kernel_mtu_ioctl(unsigned if_index, unsigned long request, int& mtu) noexcept {
    ifreq ifr{};
    if (if_indextoname(if_index, ifr.ifr_name) == nullptr) {
        return errno;
    }
    const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) {
        return errno;
    }
    ifr.ifr_mtu = mtu;
    const int rc = ::ioctl(s, request, &ifr) == 0 ? 0 : errno;
    ::close(s);
    mtu = ifr.ifr_mtu;
    return rc;
}

/// The MTU of the kernel interface behind a port (dev_info's if_index:
/// AF_PACKET's, TAP's), or nullopt where there is none.
std::optional<std::uint16_t> kernel_mtu(unsigned if_index) noexcept {
    int mtu = 0;
    if (if_index == 0 || kernel_mtu_ioctl(if_index, SIOCGIFMTU, mtu) != 0 || mtu <= 0 ||
        mtu > UINT16_MAX) {
        return std::nullopt;
    }
    return static_cast<std::uint16_t>(mtu);
}

/// What RSS the port applies once started, or nullopt when it will not say.
std::optional<RssState> read_rss(std::uint16_t id, const rte_eth_dev_info& info) {
    RssState rss;
    rss.key.resize(info.hash_key_size != 0 ? info.hash_key_size : rss_key_len);
    rte_eth_rss_conf conf{};
    conf.rss_key = rss.key.data();
    conf.rss_key_len = static_cast<std::uint8_t>(rss.key.size());
    if (rte_eth_dev_rss_hash_conf_get(id, &conf) != 0 || conf.rss_hf == 0 || info.reta_size == 0 ||
        conf.rss_key_len < Toeplitz::max_input + 4) {
        return std::nullopt;
    }
    rss.key.resize(conf.rss_key_len);
    rss.hash_functions = conf.rss_hf;
    std::vector<rte_eth_rss_reta_entry64> groups((info.reta_size + RTE_ETH_RETA_GROUP_SIZE - 1) /
                                                 RTE_ETH_RETA_GROUP_SIZE);
    for (auto& g : groups) {
        g.mask = ~0ULL;
    }
    if (rte_eth_dev_rss_reta_query(id, groups.data(), info.reta_size) != 0) {
        return std::nullopt;
    }
    for (std::uint16_t i = 0; i < info.reta_size; ++i) {
        rss.reta.push_back(groups[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE]);
    }
    return rss;
}

} // namespace

std::string to_string(std::uint16_t port, PortError e) {
    if (e.code == ERANGE && std::string_view(e.call) == "MTU") {
        return fmt::format("port {}: MTU {} is outside what the port takes ({} to {})", port, e.asked, e.low, e.high);
    }
    if (e.code == ENODEV) {
        return fmt::format("port {}: no such port ({} available; pass --vdev or an allow-listed device)", port,
                           rte_eth_dev_count_avail());
    }
    return fmt::format("port {}: {} failed: {}", port, e.call, rte_strerror(e.code));
}

Result<Port, PortError> Port::open(const PortConfig& config) noexcept {
    const std::uint16_t id = config.port_id;
    if (!rte_eth_dev_is_valid_port(id)) {
        return Err{PortError{"rte_eth_dev_is_valid_port", ENODEV}};
    }
    rte_eth_dev_info info{};
    if (const int rc = rte_eth_dev_info_get(id, &info); rc != 0) {
        return failed("rte_eth_dev_info_get", rc);
    }
    Port p;
    p.id_ = id;
    p.driver_ = info.driver_name != nullptr ? info.driver_name : "?";

    // Queues: a pair per run loop where the port has them. A port that
    // cannot do RSS yet has several queues fed by a rule of its own (the
    // kernel's fanout behind AF_PACKET's qpairs) delivers to all of them
    // whether configured or not, so all are set up and polled.
    const bool can_rss = info.flow_type_rss_offloads != 0;
    std::uint16_t want = std::max<std::uint16_t>(config.queues, 1);
    if (!can_rss && p.driver_ == "net_af_packet") {
        want = std::max(want, info.max_rx_queues);
    }
    p.rx_queues_ = std::min(want, info.max_rx_queues);
    p.tx_queues_ = std::min(want, info.max_tx_queues);

    // Checksums: offloaded where the port can, computed by the engine where
    // it cannot (wire/build.hpp writes the same bytes either way).
    rte_eth_conf conf{};
    const std::uint64_t tx_wanted = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
    const std::uint64_t rx_wanted = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
    conf.txmode.offloads = info.tx_offload_capa & tx_wanted;
    conf.rxmode.offloads = info.rx_offload_capa & rx_wanted;
    p.tx_caps_.ipv4 = (conf.txmode.offloads & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) != 0;
    p.tx_caps_.tcp = (conf.txmode.offloads & RTE_ETH_TX_OFFLOAD_TCP_CKSUM) != 0;
    // RSS over the addresses and TCP ports, with a symmetric key of the
    // length the port takes (docs/design.md "Steering").
    std::vector<std::uint8_t> key(info.hash_key_size != 0 ? info.hash_key_size : rss_key_len);
    const auto pattern = symmetric_rss_key();
    for (std::size_t i = 0; i < key.size(); ++i) {
        key[i] = pattern[i % 2];
    }
    if (p.rx_queues_ > 1 && can_rss) {
        conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
        conf.rx_adv_conf.rss_conf.rss_key = key.data();
        conf.rx_adv_conf.rss_conf.rss_key_len = static_cast<std::uint8_t>(key.size());
        conf.rx_adv_conf.rss_conf.rss_hf =
            info.flow_type_rss_offloads & (RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_TCP);
        // The NIC's hash in each mbuf, for steering to check its own against
        // (ethdev refuses the offload without RSS).
        conf.rxmode.offloads |= info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_RSS_HASH;
    }
    if (config.mtu != 0) {
        // The largest MTU is the smaller of max_mtu and the largest frame
        // less the Ethernet overhead (as rte_eth_dev_configure checks it).
        const std::uint32_t overhead = info.max_mtu != UINT16_MAX && info.max_rx_pktlen > info.max_mtu
                                           ? info.max_rx_pktlen - info.max_mtu
                                           : RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN;
        const std::uint32_t max_mtu = std::min<std::uint32_t>(info.max_mtu, info.max_rx_pktlen - overhead);
        if (config.mtu < info.min_mtu || config.mtu > max_mtu) {
            return Err{PortError{"MTU", ERANGE, config.mtu, info.min_mtu, max_mtu}};
        }
        conf.rxmode.mtu = config.mtu;
    }
    if (const int rc = rte_eth_dev_configure(id, p.rx_queues_, p.tx_queues_, &conf); rc != 0) {
        return failed("rte_eth_dev_configure", rc);
    }
    p.configured_ = true; // from here on, a failure closes the port again
    if (config.mtu != 0) {
        // A PMD over a kernel interface sets the interface's MTU (AF_PACKET
        // and TAP do), and that outlives us: close() puts the interface's own
        // back, on every path from here. The ethdev's MTU is no guide to it
        // (AF_PACKET starts at 1500 whatever the interface has).
        p.kernel_if_index_ = info.if_index;
        p.kernel_mtu_before_ = kernel_mtu(info.if_index);
        if (const int rc = rte_eth_dev_set_mtu(id, config.mtu); rc != 0) {
            return failed("rte_eth_dev_set_mtu", rc);
        }
    }
    if (const int rc = rte_eth_dev_get_mtu(id, &p.mtu_); rc != 0) {
        return failed("rte_eth_dev_get_mtu", rc);
    }
    std::uint16_t rx_desc = config.rx_descriptors;
    std::uint16_t tx_desc = config.tx_descriptors;
    if (const int rc = rte_eth_dev_adjust_nb_rx_tx_desc(id, &rx_desc, &tx_desc); rc != 0) {
        return failed("rte_eth_dev_adjust_nb_rx_tx_desc", rc);
    }
    const int socket = rte_eth_dev_socket_id(id);
    const int pool_socket = socket < 0 ? SOCKET_ID_ANY : socket;
    // A whole frame of the MTU fits one mbuf: the engine parses contiguous frames.
    const std::uint32_t frame = p.mtu_ + RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN;
    const auto data_room = static_cast<std::uint16_t>(
        RTE_PKTMBUF_HEADROOM + std::max<std::uint32_t>(frame, RTE_MBUF_DEFAULT_DATAROOM));
    // A pool per RX queue, so that one loop's peers, holding mbufs, press on
    // that loop's pool alone (the engine judges its pressure from it).
    const std::uint32_t per_queue = std::max<std::uint32_t>(config.mbufs / p.rx_queues_, 2u * rx_desc + 512);
    for (std::uint16_t q = 0; q < p.rx_queues_; ++q) {
        const std::string name = fmt::format("synack_p{}q{}", id, q);
        rte_mempool* pool = rte_pktmbuf_pool_create(name.c_str(), per_queue, 256, 0, data_room, pool_socket);
        if (pool == nullptr) {
            return Err{PortError{"rte_pktmbuf_pool_create", rte_errno}};
        }
        p.pools_.push_back(pool);
        if (const int rc = rte_eth_rx_queue_setup(id, q, rx_desc, static_cast<unsigned>(socket), nullptr, pool);
            rc != 0) {
            return failed("rte_eth_rx_queue_setup", rc);
        }
    }
    // Headers only: they go into the headroom, ARP's 28 bytes after it.
    const auto ctrl_room = static_cast<std::uint16_t>(RTE_PKTMBUF_HEADROOM + 128);
    for (std::uint16_t loop = 0; loop < std::max<std::uint16_t>(config.queues, 1); ++loop) {
        const std::string name = fmt::format("synack_p{}c{}", id, loop);
        rte_mempool* pool = rte_pktmbuf_pool_create(name.c_str(), config.ctrl_mbufs, 256, 0, ctrl_room, pool_socket);
        if (pool == nullptr) {
            return Err{PortError{"rte_pktmbuf_pool_create", rte_errno}};
        }
        p.ctrl_pools_.push_back(pool);
    }
    for (std::uint16_t q = 0; q < p.tx_queues_; ++q) {
        if (const int rc = rte_eth_tx_queue_setup(id, q, tx_desc, static_cast<unsigned>(socket), nullptr); rc != 0) {
            return failed("rte_eth_tx_queue_setup", rc);
        }
    }
    rte_ether_addr addr{};
    if (const int rc = rte_eth_macaddr_get(id, &addr); rc != 0) {
        return failed("rte_eth_macaddr_get", rc);
    }
    std::copy(std::begin(addr.addr_bytes), std::end(addr.addr_bytes), p.mac_.bytes.begin());
    if (const int rc = rte_eth_dev_start(id); rc != 0) {
        return failed("rte_eth_dev_start", rc);
    }
    p.running_ = true;
    // The drops read_rx_drops() reports count from here (a PMD that cannot
    // reset starts at 0 anyway, when probed).
    (void)rte_eth_stats_reset(id);
    if (p.rx_queues_ > 1 && can_rss) {
        p.rss_ = read_rss(id, info);
    }
    log(RTE_LOG_INFO, "port {} ({}) started: {} RX / {} TX queues of {} / {} descriptors, MTU {}, {} x {} mbufs "
        "and {} x {} for control; RSS {}; checksum offload TX ipv4 {} tcp {}, RX {}; the rest in software",
        id, p.driver_, p.rx_queues_, p.tx_queues_, rx_desc, tx_desc, p.mtu_, p.pools_.size(), per_queue,
        p.ctrl_pools_.size(), config.ctrl_mbufs,
        p.rss_ ? fmt::format("{}-entry RETA", p.rss_->reta.size()) : std::string(can_rss ? "unreadable" : "none"),
        p.tx_caps_.ipv4 ? "on" : "off", p.tx_caps_.tcp ? "on" : "off",
        (conf.rxmode.offloads & rx_wanted) != 0 ? "on" : "off");
    return p;
}

Port::Port(Port&& o) noexcept
    : id_(o.id_), configured_(std::exchange(o.configured_, false)),
      running_(std::exchange(o.running_, false)), closed_(std::exchange(o.closed_, true)),
      pools_(std::move(o.pools_)), ctrl_pools_(std::move(o.ctrl_pools_)), mac_(o.mac_), tx_caps_(o.tx_caps_),
      driver_(std::move(o.driver_)), rx_queues_(o.rx_queues_), tx_queues_(o.tx_queues_),
      mtu_(o.mtu_), rss_(std::move(o.rss_)), kernel_if_index_(o.kernel_if_index_),
      kernel_mtu_before_(std::exchange(o.kernel_mtu_before_, std::nullopt)) {}

Port::~Port() {
    if (configured_) {
        close();
    }
    for (rte_mempool* pool : pools_) {
        rte_mempool_free(pool);
    }
    for (rte_mempool* pool : ctrl_pools_) {
        rte_mempool_free(pool);
    }
}

unsigned Port::mbufs_in_use() const noexcept {
    unsigned n = 0;
    for (const rte_mempool* pool : pools_) {
        n += rte_mempool_in_use_count(pool);
    }
    for (const rte_mempool* pool : ctrl_pools_) {
        n += rte_mempool_in_use_count(pool);
    }
    return n;
}

void Port::close() noexcept {
    stop();
    if (!closed_) {
        rte_eth_dev_close(id_);
        closed_ = true;
    }
    // A TAP interface went with the port (ENXIO); an AF_PACKET one stays.
    if (kernel_mtu_before_ && kernel_mtu(kernel_if_index_) != kernel_mtu_before_) {
        int mtu = *kernel_mtu_before_;
        if (const int rc = kernel_mtu_ioctl(kernel_if_index_, SIOCSIFMTU, mtu); rc == 0) {
            log(RTE_LOG_INFO, "port {}: the kernel interface's MTU is {} again", id_, mtu);
        } else if (rc != ENXIO && rc != ENODEV) {
            log(RTE_LOG_WARNING,
                "port {}: the kernel interface's MTU could not be set back to {}: {}", id_, mtu,
                std::strerror(rc));
        }
    }
    kernel_mtu_before_.reset();
}

bool Port::read_rx_drops(PortCounters& c) const noexcept {
    rte_eth_stats s{};
    if (closed_ || rte_eth_stats_get(id_, &s) != 0) {
        return false;
    }
    c.rx_missed = s.imissed;
    c.rx_nombuf = s.rx_nombuf;
    c.rx_errors = s.ierrors;
    return true;
}

void Port::stop() noexcept {
    if (running_) {
        rte_eth_dev_stop(id_);
        running_ = false;
    }
}

std::uint16_t Port::transmit(std::uint16_t queue, rte_mbuf** pkts, std::uint16_t n) noexcept {
    std::uint16_t sent = 0;
    for (int tries = 0; tries < 4 && sent < n; ++tries) {
        sent += rte_eth_tx_burst(id_, queue, pkts + sent, static_cast<std::uint16_t>(n - sent));
    }
    if (sent < n) {
        rte_pktmbuf_free_bulk(pkts + sent, n - sent);
    }
    return sent;
}

} // namespace synack::runtime
