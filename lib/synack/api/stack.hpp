#pragma once
// synack's public API: a Stack per core (docs/api.md).
//
// A Stack owns one engine: that core's connections, listeners, timers and
// counters. The host that owns the ports drives it with three calls, and the
// application acts on connections between them:
//
//   input(pkts, n, now)   frames received: TCP input for each
//   poll(now)             timers, then one output pass for everything the
//                         application did since the last input() or poll()
//   drain(out, max)       the frames to transmit
//   ready(out, max)       the connections that changed, each at most once
//
// Ownership of mbufs: input() takes the frames; take() moves received
// payload mbufs to the application; send() moves the application's mbufs to
// the stack (on success only); drain() moves frames to the host. Nothing is
// copied except by write(), which copies on purpose.
//
// Nothing here takes a lock or allocates after construction; a Stack is used
// by one thread. Errors are values: every call says what each result means.

#include <synack/base/result.hpp>
#include <synack/time/clock.hpp>
#include <synack/wire/bytes.hpp>
#include <synack/wire/mbuf.hpp>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

namespace synack {

namespace engine {
class Engine;
struct EngineConfig;
} // namespace engine

/// An mbuf chain the holder owns (and frees, unless it hands it on).
using Buffer = wire::MbufPtr;
using Ipv4Addr = wire::Ipv4Addr;
using MacAddr = wire::MacAddr;
using Bytes = wire::Bytes;

/// A connection, as the application names it. A handle stays valid until the
/// connection is closed and its last ready entry taken, or the application
/// called close() or abort(); then every call refuses it (ConnError::stale).
struct Conn {
    std::uint32_t index = UINT32_MAX; // a slot of the stack's connection table
    std::uint32_t generation = 0;     // bumped each time the slot is freed
    bool operator==(const Conn&) const noexcept = default;
};

/// RFC 9293 section 3.3.2, in its order.
enum class ConnState : std::uint8_t {
    closed,
    listen,
    syn_sent,
    syn_received,
    established,
    fin_wait_1,
    fin_wait_2,
    close_wait,
    closing,
    last_ack,
    time_wait,
};

/// Why a connection ended.
enum class CloseReason : std::uint8_t {
    normal,    // both FINs exchanged and acknowledged
    reset,     // the peer sent an acceptable RST
    refused,   // RST in answer to our SYN
    timed_out, // retransmissions or keepalive probes ran out
    aborted,   // we reset it (the application, having closed or aborted it, hears nothing)
};

const char* to_string(ConnState s) noexcept;
const char* to_string(CloseReason r) noexcept;

/// What changed on a connection: bits of Ready::what.
namespace ready {
inline constexpr std::uint8_t connected = 1 << 0; // ESTABLISHED reached
inline constexpr std::uint8_t readable = 1 << 1;  // new bytes to read or take
inline constexpr std::uint8_t writable =
    1 << 2; // send room again, after a send was refused or filled it
inline constexpr std::uint8_t peer_closed = 1 << 3; // the peer's FIN: no more bytes will come
inline constexpr std::uint8_t closed = 1
                                       << 4; // gone (see Ready::reason); the handle is stale after
} // namespace ready

/// One connection on the ready list.
struct Ready {
    Conn conn;
    std::uint8_t what = 0;                    // ready:: bits, all that happened since it was listed
    CloseReason reason = CloseReason::normal; // with ready::closed
    std::uint16_t listen_port =
        0; // with ready::connected: the listener of a passive open, 0 for connect()
    bool has(std::uint8_t bit) const noexcept { return (what & bit) != 0; }
};

enum class ListenError : std::uint8_t {
    port_in_use,        // a listener on this port exists
    too_many_listeners, // StackConfig::max_listeners reached
};

enum class ConnectError : std::uint8_t {
    no_connection_slot, // StackConfig::max_connections reached
    no_local_port,      // local_port, or every ephemeral port, in use towards that peer
    no_mbuf,            // no mbuf for the SYN
};

enum class ConnError : std::uint8_t {
    stale,         // no such connection (closed, or never was)
    not_connected, // the handshake is not done, or the connection has ended
    write_closed,  // shutdown() or close() came before
    no_room,       // the send budget is used: wait for ready::writable
    no_mbuf,       // the pool is empty: try again after the next poll()
    nothing,       // nothing to take: no readable data, or max_bytes below the first segment
};

const char* to_string(ListenError e) noexcept;
const char* to_string(ConnectError e) noexcept;
const char* to_string(ConnError e) noexcept;

/// RFC 9293 section 3.8.4 keepalive: off unless enabled.
struct Keepalive {
    bool enabled = false;
    time::Duration idle = time::Duration::from_s(7200); // "MUST default to no less than two hours"
    time::Duration interval = time::Duration::from_s(75);
    std::uint8_t probes = 9; // unanswered probes before the connection times out
};

/// SYN cookies (RFC 4987 section 3.6).
enum class SynCookies : std::uint8_t {
    off,         // a SYN beyond the listener's syn_backlog is dropped
    on_overflow, // answer with a cookie when syn_backlog is reached
    always,      // every SYN: nothing kept for half-open connections
};

/// A Stack's settings. The defaults are the engine's own.
struct StackConfig {
    MacAddr mac;
    Ipv4Addr ipv4;
    /// Addresses within ipv4/prefix_len are reached directly, others through gateway.
    std::uint8_t prefix_len = 24;
    std::optional<Ipv4Addr> gateway;
    /// Every frame to this MAC, without ARP: for a host that knows its next hop.
    std::optional<MacAddr> next_hop_mac;
    std::uint32_t max_connections = 16384;
    std::uint16_t max_listeners = 64;
    /// Per listener: connections in SYN-RECEIVED.
    std::uint32_t syn_backlog = 1024;
    SynCookies syn_cookies = SynCookies::on_overflow;
    std::uint16_t ephemeral_port_min = 32768;
    std::uint16_t ephemeral_port_max = 60999;
    /// With several stacks on one port (one per run loop): connect() takes
    /// only a local port this accepts, so that the replies come back to this
    /// stack (the runtime's Steering::owns). Empty: any port.
    std::function<bool(Ipv4Addr local, std::uint16_t local_port, Ipv4Addr remote,
                       std::uint16_t remote_port)>
        owns;
    /// Whether this stack answers ARP for its address (one of several on a port does).
    bool arp_responder = true;
    /// SYNs resent before connect() ends with CloseReason::timed_out (1 s,
    /// 2 s, 4 s ... apart).
    std::uint8_t syn_retries = 6;
    /// Our MSS (the MTU less 40 bytes).
    std::uint16_t mss = 1460;
    /// Per connection: the send budget, and the receive window when empty.
    std::uint32_t send_buffer_bytes = 256 * 1024;
    std::uint32_t recv_buffer_bytes = 256 * 1024;
    bool window_scaling = true; // RFC 7323
    bool timestamps = true;     // RFC 7323
    bool sack = true;           // RFC 2018
    /// Nagle off on every connection (set_no_delay() per connection).
    bool no_delay = false;
    Keepalive keepalive;
    /// The root of every secret (flow hash, ISNs, SYN cookies, timestamp
    /// offsets): draw it at random.
    std::array<std::uint8_t, 16> secret{};
    /// Checksums the port computes on transmit (its offload capabilities).
    bool tx_checksum_ipv4 = false;
    bool tx_checksum_tcp = false;
};

/// The engine settings that config stands for (the runtime and tests; the
/// ready list is for the Stack to turn on).
engine::EngineConfig engine_config(const StackConfig& config) noexcept;

/// What a connection is doing, as Linux's TCP_INFO tells it.
struct ConnInfo {
    ConnState state = ConnState::closed;
    Ipv4Addr local_ip;
    Ipv4Addr remote_ip;
    std::uint16_t local_port = 0;
    std::uint16_t remote_port = 0;
    time::Duration srtt; // zero before the first sample
    time::Duration rttvar;
    time::Duration rto;
    std::uint32_t cwnd_bytes = 0;
    std::uint32_t ssthresh_bytes = 0;
    std::uint32_t snd_wnd_bytes = 0; // the peer's window
    std::uint32_t rcv_wnd_bytes = 0; // room in our receive buffer
    std::uint32_t flight_bytes = 0;  // sent, not acknowledged
    std::uint16_t snd_mss = 0;
    bool timestamps = false;
    bool sack = false;
    std::uint8_t snd_wscale = 0;
    std::uint8_t rcv_wscale = 0;
    std::uint32_t segments_retransmitted = 0;
    std::uint64_t bytes_acked = 0;    // payload the peer acknowledged
    std::uint64_t bytes_received = 0; // payload received in order
    std::uint32_t bytes_readable = 0; // received, not yet consumed or taken
    std::uint32_t bytes_unsent = 0;   // queued by the application, not yet acknowledged
};

class Stack {
public:
    /// A stack whose mbufs come from pool (the one its receive queue fills
    /// from), and those of segments without payload from ctrl_pool when
    /// given (a reserve a drained pool cannot take). Both must outlive it.
    /// Allocates every table now; nothing later.
    Stack(const StackConfig& config, rte_mempool* pool, time::Instant now,
          rte_mempool* ctrl_pool = nullptr);
    /// The same with every engine setting (the runtime, synack-bench, tests);
    /// the engine's ready list is turned on, and its queues sized to max_connections.
    Stack(const engine::EngineConfig& config, rte_mempool* pool, time::Instant now,
          rte_mempool* ctrl_pool = nullptr);
    ~Stack();
    Stack(const Stack&) = delete;
    Stack& operator=(const Stack&) = delete;

    // --- the host's side ---

    /// Takes ownership of n received frames and runs TCP input for each.
    void input(rte_mbuf** pkts, std::uint16_t n, time::Instant now) noexcept;
    /// Fires due timers, then sends what is pending: the one output pass for
    /// what the application did since the last input() or poll().
    void poll(time::Instant now) noexcept;
    /// Moves up to max frames to transmit into out; the caller owns them.
    /// Returns how many (0: nothing pending).
    std::uint16_t drain(rte_mbuf** out, std::uint16_t max) noexcept;
    /// A gratuitous ARP for our address, as an interface coming up sends.
    void announce() noexcept;
    /// The earliest time poll() has work, if any.
    std::optional<time::Instant> next_wakeup() const noexcept;

    // --- readiness ---

    /// Pops up to max ready entries, oldest first. A connection appears at
    /// most once until its entry is popped, with every change OR-ed in.
    /// Returns how many (0: nothing changed).
    std::size_t ready(Ready* out, std::size_t max) noexcept;

    // --- opening ---

    /// Accepts connections to port: each shows up on the ready list with
    /// ready::connected and listen_port set.
    /// Errors: port_in_use, too_many_listeners.
    Status<ListenError> listen(std::uint16_t port) noexcept;
    /// Stops accepting on port (no-op if none): half-open connections are
    /// forgotten; established ones stay.
    void unlisten(std::uint16_t port) noexcept;
    /// Opens a connection from local_port (0: an ephemeral port); the SYN
    /// goes at the next poll(). ready::connected, or ready::closed with
    /// reason refused or timed_out, follows.
    /// Errors: no_connection_slot, no_local_port, no_mbuf.
    Result<Conn, ConnectError> connect(Ipv4Addr dst, std::uint16_t port,
                                       std::uint16_t local_port = 0) noexcept;

    // --- receiving ---

    /// Bytes received and not yet consumed or taken; 0 for a stale handle.
    std::uint32_t readable(Conn c) noexcept;
    /// Up to max spans over the readable bytes, in order, in place in the
    /// mbufs that arrived; valid until the next consume(), take(), input() or
    /// poll(). Returns how many (0 for none, or a stale handle).
    std::size_t peek(Conn c, Bytes* out, std::size_t max) noexcept;
    /// Releases the first n readable bytes (at most readable()); the window
    /// reopens. Errors: stale.
    Status<ConnError> consume(Conn c, std::uint32_t n) noexcept;
    /// Takes the received mbufs themselves, trimmed to the payload: whole
    /// segments from the front, at most max_bytes; the window reopens.
    /// Returns the chain (its pkt_len the bytes taken). Errors: stale;
    /// nothing (none readable, or the first segment alone exceeds max_bytes).
    Result<Buffer, ConnError> take(Conn c, std::uint32_t max_bytes = UINT32_MAX) noexcept;

    // --- sending ---

    /// Bytes send() and write() accept now; 0 for a stale handle.
    std::uint32_t writable(Conn c) noexcept;
    /// An mbuf from the stack's pool to fill and send(); empty when the pool
    /// is (back-pressure: try after the next poll()).
    Buffer alloc_buffer() noexcept;
    /// Queues the chain to send, zero copy: on success the stack owns it and
    /// the segments sent reference its bytes; on error it stays with the
    /// caller. Mbufs from take() on another connection go alike (a proxy).
    /// Errors: stale, not_connected, write_closed, no_room (more than
    /// writable(): wait for ready::writable).
    Status<ConnError> send(Conn c, Buffer& data) noexcept;
    /// Copies up to writable() bytes of data into mbufs from the pool and
    /// queues them. Returns the bytes taken (fewer than data.size() when the
    /// budget or the pool ran out; ready::writable follows when room
    /// returns). Errors: stale, not_connected, write_closed, no_room (none
    /// taken: budget used), no_mbuf (none taken: pool empty).
    Result<std::uint32_t, ConnError> write(Conn c, Bytes data) noexcept;

    // --- ending ---

    /// Shuts down the write side: a FIN after the queued data. Reading goes
    /// on until ready::peer_closed; a close that completes with data unread
    /// keeps it, and ready::closed comes once it is read. Errors: stale.
    Status<ConnError> shutdown(Conn c) noexcept;
    /// Done with the connection: the write side shuts down and the stack
    /// finishes it alone; no more ready entries, the handle is stale at once.
    /// Unread data, or data arriving later, resets it instead (RFC 1122
    /// section 4.2.2.13); with set_rst_on_close() it is reset at once.
    /// Errors: stale.
    Status<ConnError> close(Conn c) noexcept;
    /// Resets the connection (RST) and frees it; no more ready entries, the
    /// handle is stale at once. Errors: stale.
    Status<ConnError> abort(Conn c) noexcept;

    // --- options and info ---

    /// Nagle off (true) or on (false) for this connection. Errors: stale.
    Status<ConnError> set_no_delay(Conn c, bool on) noexcept;
    /// Keepalive for this connection from now on. Errors: stale.
    Status<ConnError> set_keepalive(Conn c, const Keepalive& k) noexcept;
    /// close() resets instead of sending a FIN (Linux's SO_LINGER with a zero
    /// timeout). Errors: stale.
    Status<ConnError> set_rst_on_close(Conn c, bool on) noexcept;
    /// The connection's state, addresses, RTT, windows and counts.
    /// Errors: stale.
    Result<ConnInfo, ConnError> info(Conn c) noexcept;

    /// Connections held (TIME-WAIT records apart).
    std::size_t connections() const noexcept;
    /// Memory a stack takes per StackConfig::max_connections, all of it at
    /// construction (buffers apart): for a program to check what fits.
    static std::size_t bytes_per_connection() noexcept;
    /// The engine, for the runtime and tests; applications never need it.
    engine::Engine& engine() noexcept { return *engine_; }

private:
    std::unique_ptr<engine::Engine> engine_;
    rte_mempool* pool_;
    time::Instant now_;
};

} // namespace synack
