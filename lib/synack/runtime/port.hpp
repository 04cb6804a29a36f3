#pragma once
// One ethdev port, set up the way the engines need it: a queue pair per run
// loop where the port has them, RSS with a symmetric key when it can (read
// back after start: runtime/steering.hpp checks it), the MTU asked for, a
// mempool sized from the configuration, the checksum offloads the port
// reports (the software path otherwise), and its MAC address. The only room
// that calls rte_eth_*; errors are values that name the call that failed.

#include <synack/base/counters.hpp>
#include <synack/base/result.hpp>
#include <synack/wire/build.hpp>
#include <synack/wire/bytes.hpp>

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace synack::runtime {

struct PortConfig {
    std::uint16_t port_id = 0;
    std::uint16_t rx_descriptors = 1024;
    std::uint16_t tx_descriptors = 1024;
    /// Mbufs for data, split evenly between one pool per RX queue (each run
    /// loop's engine draws from its own): the RX and TX rings, and what the
    /// engine holds (send and receive buffers, out-of-order data, packets in
    /// flight).
    std::uint32_t mbufs = 65535;
    /// Small mbufs per run loop for segments without payload (ACK, RST,
    /// SYN-ACK, ARP): a reserve that a drained data pool cannot take from.
    std::uint32_t ctrl_mbufs = 4096;
    /// Queue pairs wanted: one per run loop. The port may have fewer (see
    /// Port::rx_queues()); a port without RSS that spreads packets over
    /// queues of its own accord (AF_PACKET fanout) has all of them polled.
    std::uint16_t queues = 1;
    /// The IP MTU, 0 to leave the port's own (1500 on most).
    std::uint16_t mtu = 0;
};

/// One run loop's traffic through the port.
struct PortCounters {
    std::uint64_t rx_packets = 0;
    std::uint64_t tx_packets = 0;
    std::uint64_t tx_dropped = 0; // refused by the PMD after retrying: freed, counted
    /// Frames the port itself dropped on receive, since it was opened
    /// (Port::read_rx_drops): missed for want of RX descriptors (imissed),
    /// no mbuf to receive into (rx_nombuf), received in error (ierrors).
    /// They are the port's, not a queue's: one loop reads them (RunLoop
    /// says which) and the others keep 0, so a sum over loops counts them once.
    std::uint64_t rx_missed = 0;
    std::uint64_t rx_nombuf = 0;
    std::uint64_t rx_errors = 0;

    /// Adds another loop's counters (for totals).
    PortCounters& operator+=(const PortCounters& o) noexcept {
        add_counters(*this, o);
        return *this;
    }
};

/// The RSS the port really applies, read back after start.
struct RssState {
    std::vector<std::uint8_t> key;
    std::vector<std::uint16_t> reta; // hash % reta.size() -> RX queue
    std::uint64_t hash_functions = 0; // RTE_ETH_RSS_*
};

/// Why a port could not be opened: the DPDK call that failed and its error
/// number (rte_errno values); call is "no such port" or "mempool" otherwise.
struct PortError {
    const char* call;
    int code;
    // ERANGE from "MTU": the MTU asked for and the range the port takes.
    std::uint32_t asked = 0;
    std::uint32_t low = 0;
    std::uint32_t high = 0;
};
/// "port 0: rte_eth_dev_configure failed: Invalid argument".
std::string to_string(std::uint16_t port, PortError e);

class Port {
public:
    /// Configures and starts the port.
    static Result<Port, PortError> open(const PortConfig& config) noexcept;
    Port(Port&& o) noexcept;
    Port& operator=(Port&&) = delete;
    Port(const Port&) = delete;
    /// Stops and closes the port (if still open) and frees its pools.
    ~Port();

    wire::MacAddr mac() const noexcept { return mac_; }
    /// The data pool of run loop `loop`: that of its RX queue (the queues'
    /// pools are shared round the loops when the port has fewer queues).
    rte_mempool* pool(std::uint16_t loop = 0) const noexcept { return pools_[loop % pools_.size()]; }
    /// The control pool of run loop `loop` (PortConfig::ctrl_mbufs).
    rte_mempool* ctrl_pool(std::uint16_t loop = 0) const noexcept {
        return ctrl_pools_[loop % ctrl_pools_.size()];
    }
    /// Mbufs of every pool not back in it: 0 once the port is closed and
    /// every engine gone, or something leaked.
    unsigned mbufs_in_use() const noexcept;
    wire::TxChecksumCaps tx_checksum() const noexcept { return tx_caps_; }
    const char* driver() const noexcept { return driver_.c_str(); }
    std::uint16_t id() const noexcept { return id_; }
    std::uint16_t rx_queues() const noexcept { return rx_queues_; }
    std::uint16_t tx_queues() const noexcept { return tx_queues_; }
    std::uint16_t mtu() const noexcept { return mtu_; }
    /// The key and RETA the port reported after start; nullopt when it has
    /// one RX queue, no RSS, or would not say.
    const std::optional<RssState>& rss() const noexcept { return rss_; }

    /// Up to max packets received on queue; the caller owns them.
    std::uint16_t receive(std::uint16_t queue, rte_mbuf** pkts, std::uint16_t max) noexcept {
        return rte_eth_rx_burst(id_, queue, pkts, max);
    }
    /// Transmits n packets on queue, retrying what the PMD does not take at
    /// once a few times; what it still refuses is freed, never leaked.
    /// Returns how many were sent.
    std::uint16_t transmit(std::uint16_t queue, rte_mbuf** pkts, std::uint16_t n) noexcept;
    /// Copies the port's receive drops since it was opened (rte_eth_stats_get:
    /// imissed, rx_nombuf, ierrors) into c, leaving its other counters.
    /// Returns false, c unchanged, when the port will not say. Not for every
    /// burst: a PMD may make a system call or read registers for it.
    bool read_rx_drops(PortCounters& c) const noexcept;
    /// Stops the port: no more RX or TX.
    void stop() noexcept;
    /// Stops and closes the port: its queues give back the mbufs they held
    /// (a TAP RX ring is full of them). The pools stay until destruction, so
    /// the caller can check that every mbuf came back. A kernel interface
    /// whose MTU open() changed (AF_PACKET, TAP) gets its own MTU back.
    void close() noexcept;

private:
    Port() = default;

    std::uint16_t id_ = 0;
    bool configured_ = false; // rte_eth_dev_configure succeeded: close() undoes it
    bool running_ = false;
    bool closed_ = false;
    std::vector<rte_mempool*> pools_;      // one per RX queue
    std::vector<rte_mempool*> ctrl_pools_; // one per run loop
    wire::MacAddr mac_;
    wire::TxChecksumCaps tx_caps_;
    std::string driver_;
    std::uint16_t rx_queues_ = 1;
    std::uint16_t tx_queues_ = 1;
    std::uint16_t mtu_ = 1500;
    std::optional<RssState> rss_;
    // The kernel interface behind the port and its MTU before open() set
    // ours, while close() has yet to put it back.
    unsigned kernel_if_index_ = 0;
    std::optional<std::uint16_t> kernel_mtu_before_;
};

} // namespace synack::runtime
