#pragma once
// Packet capture by a DPDK secondary process: with enable_capture() called,
// `dpdk-dumpcap --file-prefix <prefix>` attaches to this process and copies
// what its ports receive and transmit into a pcapng file. The copies are
// made by rte_pdump's RX/TX callbacks in this process, installed only while
// a capture runs. The TX callback sees each call of rte_eth_tx_burst, so a
// frame the PMD refused and Port::transmit retried appears twice.
//
// A secondary process needs what the primary shares: the runtime directory
// (no --no-shconf, no --in-memory) for its IPC, and hugepages (no --no-huge)
// to map the primary's memory.

namespace synack::runtime {

/// Lets dpdk-dumpcap attach: calls rte_pdump_init() and checks that EAL runs
/// with what a secondary process needs. Call after rte_eal_init(), once.
/// Logs one line either way; a capture that cannot work is a notice, not an
/// error, since most runs do not need one.
/// Returns true when a capture can attach; false when rte_pdump_init() failed,
/// EAL's multi-process channel is off (--no-shconf, --in-memory) or EAL runs
/// without hugepages (--no-huge). After false, nothing is left registered.
bool enable_capture() noexcept;

/// Stops answering capture requests: calls rte_pdump_uninit(). Call after the
/// ports are stopped (a running capture's callbacks count into memory this
/// frees) and before rte_eal_cleanup(); harmless after enable_capture()
/// returned false. A capture still attached sees the primary exit and stops.
void disable_capture() noexcept;

} // namespace synack::runtime
