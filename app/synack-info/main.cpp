// synack-info [EAL args]: the synack and DPDK versions, and every ethdev port
// EAL brought up, with its driver and the offloads synack would use on it.
// A first look at a machine: which PMDs load, what each port can do.

#include <synack/synack.hpp>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include <fmt/core.h>

#include <cstdlib>

namespace {

const char* yes_no(bool b) { return b ? "yes" : "no"; }

void print_port(std::uint16_t port) {
    rte_eth_dev_info info{};
    if (rte_eth_dev_info_get(port, &info) != 0) {
        fmt::print("  port {}: no device info\n", port);
        return;
    }
    char name[RTE_ETH_NAME_MAX_LEN] = {};
    rte_eth_dev_get_name_by_port(port, name);
    fmt::print("  port {}: {} (driver {})\n", port, name, info.driver_name);
    fmt::print("    queues rx {} tx {}, mtu {}..{}\n", info.max_rx_queues, info.max_tx_queues,
               info.min_mtu, info.max_mtu);
    fmt::print("    tx checksum offload: ipv4 {} tcp {}; rx checksum: ipv4 {} tcp {}\n",
               yes_no(info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM),
               yes_no(info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_TCP_CKSUM),
               yes_no(info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM),
               yes_no(info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TCP_CKSUM));
    fmt::print("    rss: hash key {} bytes, reta {} entries, hash functions 0x{:x}\n",
               info.hash_key_size, info.reta_size, info.flow_type_rss_offloads);
}

} // namespace

int main(int argc, char** argv) {
    fmt::print("synack {} on {}\n", synack::version(), synack::dpdk_version());
    if (rte_eal_init(argc, argv) < 0) {
        fmt::print(stderr, "synack-info: EAL initialisation failed: {}\n",
                   rte_strerror(rte_errno));
        return EXIT_FAILURE;
    }
    fmt::print("lcores: {} (main lcore {})\n", rte_lcore_count(), rte_get_main_lcore());
    fmt::print("ethdev ports: {}\n", rte_eth_dev_count_avail());
    for (auto port = rte_eth_find_next(0); port < RTE_MAX_ETHPORTS;
         port = rte_eth_find_next(static_cast<std::uint16_t>(port + 1))) {
        print_port(static_cast<std::uint16_t>(port));
    }
    rte_eal_cleanup();
    return EXIT_SUCCESS;
}
