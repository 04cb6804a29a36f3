#include <synack/runtime/port.hpp>

#include <synack/runtime/log.hpp>

#include <rte_errno.h>
#include <rte_ethdev.h>

#include <fmt/core.h>

#include <utility>

namespace synack::runtime {

namespace {

Err<PortError> failed(const char* call, int rc) {
    return Err{PortError{call, rc < 0 ? -rc : rte_errno}};
}

} // namespace

std::string to_string(std::uint16_t port, PortError e) {
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

    // Checksums: offloaded where the port can, computed by the engine where
    // it cannot (wire/build.hpp writes the same bytes either way).
    rte_eth_conf conf{};
    const std::uint64_t tx_wanted = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
    const std::uint64_t rx_wanted = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
    conf.txmode.offloads = info.tx_offload_capa & tx_wanted;
    conf.rxmode.offloads = info.rx_offload_capa & rx_wanted;
    p.tx_caps_.ipv4 = (conf.txmode.offloads & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) != 0;
    p.tx_caps_.tcp = (conf.txmode.offloads & RTE_ETH_TX_OFFLOAD_TCP_CKSUM) != 0;
    if (const int rc = rte_eth_dev_configure(id, 1, 1, &conf); rc != 0) {
        return failed("rte_eth_dev_configure", rc);
    }
    std::uint16_t rx_desc = config.rx_descriptors;
    std::uint16_t tx_desc = config.tx_descriptors;
    if (const int rc = rte_eth_dev_adjust_nb_rx_tx_desc(id, &rx_desc, &tx_desc); rc != 0) {
        return failed("rte_eth_dev_adjust_nb_rx_tx_desc", rc);
    }
    const int socket = rte_eth_dev_socket_id(id);
    const std::string pool_name = fmt::format("synack_p{}", id);
    p.pool_ = rte_pktmbuf_pool_create(pool_name.c_str(), config.mbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                      socket < 0 ? SOCKET_ID_ANY : socket);
    if (p.pool_ == nullptr) {
        return Err{PortError{"rte_pktmbuf_pool_create", rte_errno}};
    }
    if (const int rc = rte_eth_rx_queue_setup(id, 0, rx_desc, static_cast<unsigned>(socket), nullptr, p.pool_);
        rc != 0) {
        return failed("rte_eth_rx_queue_setup", rc);
    }
    if (const int rc = rte_eth_tx_queue_setup(id, 0, tx_desc, static_cast<unsigned>(socket), nullptr); rc != 0) {
        return failed("rte_eth_tx_queue_setup", rc);
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
    log(RTE_LOG_INFO, "port {} ({}) started: {} RX / {} TX descriptors, {} mbufs; checksum offload TX ipv4 {} tcp {}, "
        "RX {}; the rest in software",
        id, p.driver_, rx_desc, tx_desc, config.mbufs, p.tx_caps_.ipv4 ? "on" : "off", p.tx_caps_.tcp ? "on" : "off",
        conf.rxmode.offloads != 0 ? "on" : "off");
    return p;
}

Port::Port(Port&& o) noexcept
    : id_(o.id_), running_(std::exchange(o.running_, false)), closed_(std::exchange(o.closed_, true)),
      pool_(std::exchange(o.pool_, nullptr)),
      mac_(o.mac_), tx_caps_(o.tx_caps_), driver_(std::move(o.driver_)), counters_(o.counters_) {}

Port::~Port() {
    if (pool_ != nullptr) {
        close();
        rte_mempool_free(pool_);
    }
}

void Port::close() noexcept {
    stop();
    if (!closed_) {
        rte_eth_dev_close(id_);
        closed_ = true;
    }
}

void Port::stop() noexcept {
    if (running_) {
        rte_eth_dev_stop(id_);
        running_ = false;
    }
}

std::uint16_t Port::receive(rte_mbuf** pkts, std::uint16_t max) noexcept {
    const std::uint16_t n = rte_eth_rx_burst(id_, 0, pkts, max);
    counters_.rx_packets += n;
    return n;
}

void Port::transmit(rte_mbuf** pkts, std::uint16_t n) noexcept {
    std::uint16_t sent = 0;
    for (int tries = 0; tries < 4 && sent < n; ++tries) {
        sent += rte_eth_tx_burst(id_, 0, pkts + sent, static_cast<std::uint16_t>(n - sent));
    }
    counters_.tx_packets += sent;
    if (sent < n) {
        counters_.tx_dropped += n - sent;
        rte_pktmbuf_free_bulk(pkts + sent, n - sent);
    }
}

} // namespace synack::runtime
