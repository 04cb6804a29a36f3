#pragma once
// One ethdev port, set up the way the engine needs it: one RX and one TX
// queue, a mempool sized from the configuration, the checksum offloads the
// port reports (the software path otherwise), and its MAC address. The only
// room that calls rte_eth_*; errors are values that name the call that failed.

#include <synack/base/result.hpp>
#include <synack/wire/build.hpp>
#include <synack/wire/bytes.hpp>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <cstdint>
#include <string>

namespace synack::runtime {

struct PortConfig {
    std::uint16_t port_id = 0;
    std::uint16_t rx_descriptors = 1024;
    std::uint16_t tx_descriptors = 1024;
    /// Mbufs in the port's pool: RX and TX rings, and what the engine holds
    /// (send and receive buffers, out-of-order data, packets in flight).
    std::uint32_t mbufs = 65535;
};

struct PortCounters {
    std::uint64_t rx_packets = 0;
    std::uint64_t tx_packets = 0;
    std::uint64_t tx_dropped = 0; // refused by the PMD after retrying: freed, counted
};

/// Why a port could not be opened: the DPDK call that failed and its error
/// number (rte_errno values); call is "no such port" or "mempool" otherwise.
struct PortError {
    const char* call;
    int code;
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
    /// Stops and closes the port (if still open) and frees its pool.
    ~Port();

    wire::MacAddr mac() const noexcept { return mac_; }
    rte_mempool* pool() const noexcept { return pool_; }
    wire::TxChecksumCaps tx_checksum() const noexcept { return tx_caps_; }
    const char* driver() const noexcept { return driver_.c_str(); }
    std::uint16_t id() const noexcept { return id_; }

    /// Up to max received packets; the caller owns them.
    std::uint16_t receive(rte_mbuf** pkts, std::uint16_t max) noexcept;
    /// Transmits n packets, retrying what the PMD does not take at once a few
    /// times; what it still refuses is freed and counted, never leaked.
    void transmit(rte_mbuf** pkts, std::uint16_t n) noexcept;
    /// Stops the port: no more RX or TX.
    void stop() noexcept;
    /// Stops and closes the port: its queues give back the mbufs they held
    /// (a TAP RX ring is full of them). The pool stays until destruction, so
    /// the caller can check that every mbuf came back.
    void close() noexcept;

    const PortCounters& counters() const noexcept { return counters_; }

private:
    Port() = default;

    std::uint16_t id_ = 0;
    bool running_ = false;
    bool closed_ = false;
    rte_mempool* pool_ = nullptr;
    wire::MacAddr mac_;
    wire::TxChecksumCaps tx_caps_;
    std::string driver_;
    PortCounters counters_;
};

} // namespace synack::runtime
