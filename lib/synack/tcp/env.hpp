#pragma once
// What the protocol code needs from its surroundings during one call: the
// time, the configuration, the timer wheel, mbuf pools, and where to put the
// segments it sends and the events it raises. The engine fills one per burst;
// tests fill one per step. Nothing here is virtual: the queues are concrete,
// fixed-size arrays that the engine drains.

#include <synack/tcp/config.hpp>
#include <synack/tcp/drop.hpp>
#include <synack/tcp/four_tuple.hpp>
#include <synack/tcp/reassembly.hpp>
#include <synack/tcp/state.hpp>
#include <synack/time/timer_wheel.hpp>
#include <synack/wire/mbuf.hpp>

#include <rte_mempool.h>

#include <cstdint>
#include <memory>

namespace synack::tcp {

struct Tcb;

/// A segment to transmit: the mbuf starts with the TCP header (checksum 0,
/// l4_len set); the engine prepends IP and Ethernet and fills checksums.
struct OutSegment {
    FourTuple tuple;
    wire::MbufPtr packet;
};

/// Application-visible happenings on a connection.
enum class ConnEvent : std::uint8_t {
    connected,   // ESTABLISHED reached
    readable,    // new bytes in the receive buffer
    writable,    // room in the send buffer again (a third of it) after a send was refused or filled it
    peer_closed, // the peer's FIN arrived: no more bytes will come
    closed,      // the connection is gone (see Tcb::close_reason)
};

const char* to_string(ConnEvent e) noexcept;

struct EventRecord {
    std::uint64_t user_id;
    ConnEvent event;
};

/// A fixed-capacity FIFO: the only allocation is at construction.
template <typename T>
class FixedQueue {
public:
    explicit FixedQueue(std::size_t capacity) : items_(std::make_unique<T[]>(capacity)), cap_(capacity) {}

    /// Appends; false when full (the caller counts what it could not queue).
    bool push(T item) noexcept {
        if (size_ == cap_) {
            return false;
        }
        items_[(head_ + size_) % cap_] = std::move(item);
        ++size_;
        return true;
    }
    /// Removes the oldest. Precondition: not empty.
    T pop() noexcept {
        SYNACK_ASSERT(size_ != 0);
        T item = std::move(items_[head_]);
        head_ = (head_ + 1) % cap_;
        --size_;
        return item;
    }
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    bool full() const noexcept { return size_ == cap_; }

private:
    std::unique_ptr<T[]> items_;
    std::size_t cap_;
    std::size_t head_ = 0;
    std::size_t size_ = 0;
};

struct TcpCounters {
    /// Segments received whole and checked, whatever they were for: counted
    /// by the engine as it parses them.
    std::uint64_t segments_in = 0;
    /// Segments handed to the port, and those of them sent before: counted
    /// by the engine as it transmits (a segment held for an ARP answer that
    /// never comes is not sent, and not counted).
    std::uint64_t segments_out = 0;
    std::uint64_t retransmits = 0;
    std::uint64_t fast_retransmits = 0;
    std::uint64_t ooo_queued = 0; // segments held out of order for reassembly
    std::uint64_t timeouts = 0;
    std::uint64_t challenge_acks = 0;
    std::uint64_t invalid_acks_limited = 0; // ACKs not sent: TcpConfig::invalid_ack_interval
    std::uint64_t resets_sent = 0;
    std::uint64_t output_full = 0; // segments dropped because the output queue was full
    std::uint64_t events_lost = 0;
    DropCounters drops;
};

/// How short of mbufs the engine's pool is, judged once per burst. Received
/// data sits in the mbufs it came in, so a peer that sends and is not read
/// (or sends out of order) pins mbufs: under pressure a connection holds
/// fewer, so that no peer can drain the pool that every RX queue refills from.
enum class RxPressure : std::uint8_t {
    none,     // hold what the windows allow
    high,     // no out-of-order data; in-order data in a new mbuf only while
              // the connection holds fewer than rx_mbufs_floor
    critical, // nothing that needs a new mbuf; copies onto mbufs held still go
};

/// Under RxPressure::high, each connection may still hold this many mbufs of
/// received data, so that every connection makes progress.
inline constexpr std::uint32_t rx_mbufs_floor = 4;

struct TcpEnv {
    time::Instant now;
    const TcpConfig& config;
    time::TimerWheel& timers;
    rte_mempool* pool; // header mbufs and the indirect mbufs of payload slices
    /// Mbufs for segments without payload (ACK, RST, SYN-ACK, probes): a
    /// reserve of their own, so that a drained `pool` never stops us from
    /// acknowledging. May be `pool` itself.
    rte_mempool* ctrl_pool;
    ReassemblyPool& ooo_pool;
    FixedQueue<OutSegment>& out;
    FixedQueue<EventRecord>& events;
    TcpCounters& counters;
    RxPressure rx_pressure = RxPressure::none;
};

} // namespace synack::tcp
