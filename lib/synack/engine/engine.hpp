#pragma once
// One Engine per core (docs/design.md "Engine"): it owns that core's connections,
// listeners, timer wheel and counters, and is driven through three calls that
// the runtime and an embedding load balancer make alike:
//
//   input(pkts, n, now)   classify, validate, look up the flow, run TCP input
//   poll(now)             expire timers, flush pending ACKs and data
//   drain(out, max)       hand over the frames to transmit
//
// Frames are Ethernet/IPv4: ARP resolves next hops (net/neighbor.hpp) and is
// answered, ICMP echo is answered, and UDP or unknown protocols draw an ICMP
// error. Nothing here takes a lock, allocates after construction, or reads a
// clock: `now` comes in.

#include <synack/base/object_pool.hpp>
#include <synack/base/result.hpp>
#include <synack/engine/flow_table.hpp>
#include <synack/net/neighbor.hpp>
#include <synack/tcp/env.hpp>
#include <synack/tcp/half_open.hpp>
#include <synack/tcp/isn.hpp>
#include <synack/tcp/syn_cookie.hpp>
#include <synack/tcp/tcp.hpp>
#include <synack/tcp/tcb.hpp>
#include <synack/tcp/time_wait.hpp>
#include <synack/time/timer_wheel.hpp>
#include <synack/wire/build.hpp>
#include <synack/wire/error.hpp>
#include <synack/wire/icmp.hpp>
#include <synack/wire/ipv4.hpp>

#include <rte_mbuf.h>

#include <boost/intrusive/list.hpp>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace synack::engine {

/// When a listener answers a SYN with a SYN cookie (RFC 4987 section 3.6)
/// rather than a record it keeps.
enum class SynCookieMode : std::uint8_t {
    off,         // never: a SYN beyond the limit is dropped (syn_backlog_full)
    on_overflow, // when the listener's SYN-RECEIVED limit is reached, or no record is free
    always,      // every SYN: nothing is kept for any half-open connection
};

struct EngineConfig {
    tcp::TcpConfig tcp;
    wire::MacAddr mac;
    wire::Ipv4Addr ipv4;
    /// Addresses within ipv4/prefix_len are on the link and reached directly;
    /// others through the gateway (dropped as no_route without one).
    std::uint8_t prefix_len = 24;
    std::optional<wire::Ipv4Addr> gateway;
    /// Every frame goes to this MAC, with no ARP, when set: for a host that
    /// embeds the engine and knows its next hop.
    std::optional<wire::MacAddr> next_hop_mac;
    net::NeighborConfig neighbors;
    /// ICMP errors sent per second at most (RFC 1812 section 4.3.2.8 asks
    /// for a limit; Linux's icmp_msgs_per_sec is 1000).
    std::uint32_t icmp_errors_per_second = 1000;
    std::uint32_t max_connections = 16384;
    std::uint16_t max_listeners = 64;
    /// Per listener: connections in SYN-RECEIVED, and established ones not yet accepted.
    std::uint32_t syn_backlog = 1024;
    std::uint32_t accept_backlog = 1024;
    /// Connections in SYN-RECEIVED, kept as small records (tcp/half_open.hpp),
    /// all listeners together; beyond this many, or a listener's syn_backlog,
    /// SYN cookies answer (or, with them off, the SYN is dropped).
    std::uint32_t half_open_records = 16384;
    SynCookieMode syn_cookies = SynCookieMode::on_overflow;
    /// Out-of-order segments held by all connections together.
    std::uint32_t reassembly_segments = 65536;
    /// Connections in TIME-WAIT kept as small records; beyond this many a
    /// connection stays whole through TIME-WAIT (and holds its slot).
    std::uint32_t time_wait_records = 65536;
    std::uint32_t tx_queue = 8192;
    std::uint32_t event_queue = 8192;
    /// Received data stays in the mbufs it arrived in. When the share of the
    /// pool still free falls below these percentages (checked once per
    /// burst), connections hold less of it (tcp::RxPressure): no
    /// out-of-order data and a few mbufs each below the first, nothing that
    /// needs a new mbuf below the second. So no peer can drain the pool that
    /// the receive queues refill from.
    std::uint8_t rx_pressure_high_free_pct = 25;
    std::uint8_t rx_pressure_critical_free_pct = 6;
    std::uint16_t ephemeral_port_min = 32768;
    std::uint16_t ephemeral_port_max = 60999;
    /// An active open takes only an ephemeral port this accepts. With several
    /// engines on one port: whether the replies will be steered back to this
    /// engine (runtime/steering.hpp). Empty: any port. Called only in connect().
    std::function<bool(const tcp::FourTuple&)> owns_tuple;
    /// Whether to answer ARP requests for our address. With several engines
    /// on one port all of them learn from ARP, and one answers.
    bool arp_responder = true;
    /// The root secret; draw it at random. The flow hash, ISNs (RFC 6528),
    /// SYN cookies, timestamp offsets (RFC 7323 section 5.4) and the
    /// neighbour cache each use a key derived from it under a label of
    /// their own (derive_key), so that one never reveals another.
    SipKey secret;
    wire::TxChecksumCaps tx_checksum;
    /// How the application hears of its connections, and when its calls reach
    /// the wire. true (the public API's Stack): the ready list, one entry per
    /// connection with what changed since it was last taken, passive opens
    /// included (no accept queue); send, consume, take, shutdown, close,
    /// abort and connect only mark the connection, and output runs once, at
    /// the next input() or poll(). false (the engine's older users): events(),
    /// one per TCP event, accept(), and output at every call.
    bool ready_list = false;
};

/// A connection, as the application names it: stale ids are detected.
struct ConnId {
    std::uint32_t index = UINT32_MAX;
    std::uint32_t generation = 0;
    bool operator==(const ConnId&) const noexcept = default;
};

/// What changed on a connection, as bits of ReadyEntry::what: bit
/// 1 << tcp::ConnEvent for each event seen since the entry was made.
inline constexpr std::uint8_t ready_bit(tcp::ConnEvent e) noexcept {
    return static_cast<std::uint8_t>(1u << static_cast<unsigned>(e));
}

/// A connection on the ready list (EngineConfig::ready_list).
struct ReadyEntry {
    ConnId conn;
    std::uint8_t what = 0;                              // ready_bit()s
    tcp::CloseReason reason = tcp::CloseReason::normal; // with ready_bit(closed)
    std::uint16_t listen_port = 0; // a passive open's listener, with ready_bit(connected)
};

/// What the application learns from the engine.
struct Event {
    ConnId conn;
    tcp::ConnEvent kind;
    tcp::CloseReason reason = tcp::CloseReason::normal; // for closed
};

enum class ListenError : std::uint8_t { port_in_use, too_many_listeners };
enum class ConnectError : std::uint8_t { no_connection_slot, no_local_port, no_mbuf };
enum class ConnError : std::uint8_t { stale_id, not_connected, write_closed, no_room };

/// Why the engine (rather than TCP) dropped a frame. Each has a counter.
enum class FrameDrop : std::uint8_t {
    malformed,        // a wire parser refused it (see wire_errors)
    not_ipv4,         // IPv6 and other ethertypes
    not_for_us,       // another destination address
    fragment,         // IP fragments are not reassembled
    not_tcp,          // ICMP other than an echo request, UDP, other protocols
                      // (answered with an ICMP error where RFC 1122 asks)
    no_connection_slot, // SYN while the connection pool is full
    syn_backlog_full, // SYN while the listener's SYN-RECEIVED limit is reached
    accept_queue_full,// established while the accept queue is full: reset
    multi_segment,    // a chained frame too large to gather into one mbuf
    no_route,         // to send: off-link destination and no gateway
    arp_conflict,     // ARP from someone claiming our address (RFC 5227)
};
inline constexpr std::size_t frame_drop_count = static_cast<std::size_t>(FrameDrop::arp_conflict) + 1;

struct EngineCounters {
    std::uint64_t frames_in = 0;
    std::uint64_t frames_out = 0;
    std::array<std::uint64_t, frame_drop_count> frame_drops{};
    std::array<std::uint64_t, 16> wire_errors{}; // by WireError
    std::array<std::uint64_t, tcp::tcp_state_count> connections_by_state{};
    std::uint64_t connections_opened = 0;
    std::uint64_t connections_closed = 0;
    std::uint64_t tx_queue_full = 0;
    std::uint64_t events_lost = 0;
    std::uint64_t arp_requests_sent = 0;
    std::uint64_t arp_replies_sent = 0;
    std::uint64_t icmp_echo_replies = 0;
    std::uint64_t icmp_errors_sent = 0;
    std::uint64_t icmp_errors_limited = 0; // not sent: EngineConfig::icmp_errors_per_second
    net::NeighborCounters neighbors;
    std::uint64_t time_wait_compacted = 0; // connections shrunk to a record
    std::uint64_t time_wait_full = 0;      // not shrunk: no record free
    /// SYN cookies (RFC 4987 section 3.6): SYN-ACKs that carried one (the
    /// listener's SYN-RECEIVED limit was reached, or cookies are always on),
    /// ACKs whose cookie checked (a connection opened from it), and ACKs to a
    /// listener whose cookie did not (answered with RST).
    std::uint64_t syn_cookies_sent = 0;
    std::uint64_t syn_cookies_accepted = 0;
    std::uint64_t syn_cookies_rejected = 0;
    /// Half-open records given up: no ACK after synack_retries SYN-ACKs.
    std::uint64_t half_open_timed_out = 0;
    /// Bursts received while the mbuf pool was low (tcp::RxPressure high,
    /// critical); what was not held then is counted as tcp drop rx_pressure.
    std::uint64_t rx_pressure_high = 0;
    std::uint64_t rx_pressure_critical = 0;
    tcp::TcpCounters tcp;

    std::uint64_t dropped(FrameDrop d) const noexcept { return frame_drops[static_cast<std::size_t>(d)]; }
    /// Adds o counter by counter (the totals of several engines).
    EngineCounters& operator+=(const EngineCounters& o) noexcept;
};

/// A connection as the engine keeps it: the TCB plus the engine's links.
/// Internal; applications hold ConnIds.
struct EngineConn : tcp::Tcb {
    explicit EngineConn(const tcp::TcpConfig& config) noexcept : tcp::Tcb(config) {}
    static constexpr std::uint32_t not_ready = UINT32_MAX;
    FlowHook flow_hook;
    std::uint16_t listen_port = 0; // the listener of a passive open, until accepted
    bool dirty = false;            // output() pending this burst
    bool rst_on_close = false;     // close() aborts (SO_LINGER with a zero timeout)
    /// Closed normally with received data unread (ready list): kept, out of
    /// the flow table, until the application has read it or closes it, as
    /// Linux keeps a socket; then reported closed.
    bool closed_unread = false;
    std::uint32_t ready_index = not_ready; // its entry on the ready list, if any
};

/// A connection in TIME-WAIT, shrunk to what TIME-WAIT needs
/// (tcp/time_wait.hpp): about a tenth of a connection. Internal.
inline constexpr std::uint8_t time_wait_record_timer = 0x80; // no tcp::TimerKind
struct TimeWaitRecord : tcp::TimeWait {
    TimeWaitRecord() noexcept {}
    FlowHook flow_hook;
    time::TimerNode timer{time_wait_record_timer};
};

struct EngineListener;

/// A connection in SYN-RECEIVED, kept as a record (tcp/half_open.hpp) in its
/// own flow table, on its listener's list, with the timer that resends its
/// SYN-ACK. Internal.
inline constexpr std::uint8_t half_open_record_timer = 0x82; // no tcp::TimerKind
struct HalfOpenRecord : tcp::HalfOpen {
    HalfOpenRecord() noexcept {}
    FlowHook flow_hook;
    time::TimerNode timer{half_open_record_timer};
    boost::intrusive::list_member_hook<> listener_hook;
    EngineListener* listener = nullptr;
};

/// A listening port. Internal.
struct EngineListener {
    using HalfOpenList = boost::intrusive::list<
        HalfOpenRecord,
        boost::intrusive::member_hook<HalfOpenRecord, boost::intrusive::list_member_hook<>,
                                      &HalfOpenRecord::listener_hook>,
        boost::intrusive::constant_time_size<true>>;

    EngineListener(std::uint16_t p, std::uint32_t accept_backlog) : port(p), accept_queue(accept_backlog) {}

    std::uint16_t port = 0;
    HalfOpenList half_open; // in SYN-RECEIVED: its size is checked against syn_backlog
    tcp::FixedQueue<ConnId> accept_queue;
    /// Until when an ACK to this listener may carry a cookie it sent: two
    /// cookie periods after the last one. Outside, no cookie is checked, so
    /// that a blind ACK cannot open a connection when none was handed out.
    std::optional<time::Instant> cookies_until;
};

class Engine {
public:
    /// An engine whose mbufs come from pool, and those of segments without
    /// payload (ACK, RST, SYN-ACK, ARP) from ctrl_pool when given: a reserve
    /// that a drained pool cannot take from. Both must outlive the engine;
    /// pool should be the one the engine's receive queue fills from, whose
    /// free share decides tcp::RxPressure.
    Engine(const EngineConfig& config, rte_mempool* pool, time::Instant now,
           rte_mempool* ctrl_pool = nullptr);
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    // --- the embedding API ---

    /// Takes ownership of n received frames and processes them.
    void input(rte_mbuf** pkts, std::uint16_t n, time::Instant now) noexcept;
    /// Fires due timers and sends what is pending.
    void poll(time::Instant now) noexcept;
    /// Moves up to max frames to transmit into out; the caller owns them.
    /// Returns how many.
    std::uint16_t drain(rte_mbuf** out, std::uint16_t max) noexcept;
    /// Announces our address with a gratuitous ARP (RFC 5227 section 2.3),
    /// as a host does when its interface comes up.
    void announce() noexcept;
    /// The earliest time poll() has work (a timer), if any: a run loop may sleep until then.
    std::optional<time::Instant> next_wakeup() const noexcept { return wheel_.next_deadline(); }

    // --- the application side ---

    /// Accepts connections to port. Errors: port_in_use, too_many_listeners.
    Status<ListenError> listen(std::uint16_t port) noexcept;
    /// Stops accepting on port; established connections stay.
    void unlisten(std::uint16_t port) noexcept;
    /// Opens a connection (SYN sent at once) from local_port, or from an
    /// ephemeral port when it is 0. Errors: no_connection_slot, no_local_port
    /// (local_port, or every ephemeral port, in use towards that peer), no_mbuf.
    Result<ConnId, ConnectError> connect(wire::Ipv4Addr dst, std::uint16_t port, time::Instant now,
                                         std::uint16_t local_port = 0) noexcept;
    /// The next connection established on port and not yet accepted.
    std::optional<ConnId> accept(std::uint16_t port) noexcept;
    /// Pops up to max events, oldest first. Returns how many.
    std::size_t events(Event* out, std::size_t max) noexcept;
    /// Pops up to max entries of the ready list (EngineConfig::ready_list),
    /// oldest first; a connection is on it at most once. Returns how many.
    std::size_t ready(ReadyEntry* out, std::size_t max) noexcept;

    /// A buffer to fill and send(): an mbuf from the engine's pool with its
    /// whole data room free (headers go into mbufs of their own). Empty when
    /// the pool is: back-pressure, try again after the next poll().
    wire::MbufPtr alloc_buffer() noexcept { return wire::MbufPtr(rte_pktmbuf_alloc(pool_)); }
    /// Queues data to send, zero copy: the chain is taken over on success and
    /// left with the caller on error (stale_id, not_connected, write_closed,
    /// no_room). Buffers from alloc_buffer() and mbufs received elsewhere (a
    /// proxy forwarding what it got) go alike; the segments sent reference
    /// them, nothing is copied.
    Status<ConnError> send(ConnId id, wire::MbufPtr& data) noexcept;
    /// Up to max spans of received, unconsumed bytes, in place in the mbufs
    /// that arrived. Returns how many spans (0 for a stale id).
    std::size_t peek(ConnId id, wire::Bytes* out, std::size_t max) noexcept;
    /// Releases n received bytes (the window reopens).
    void consume(ConnId id, std::uint32_t n) noexcept;
    /// Takes the received mbufs themselves (tcp::take): whole segments, at
    /// most max_bytes. Empty for a stale id, when nothing is readable, or when
    /// the first segment alone exceeds max_bytes.
    wire::MbufPtr take(ConnId id, std::uint32_t max_bytes) noexcept;
    /// Bytes received and not yet consumed.
    std::uint32_t readable(ConnId id) noexcept;
    /// Room in the send buffer.
    std::uint32_t writable(ConnId id) noexcept;
    /// What send() would answer now for any data (tcp::check_send): a full
    /// buffer is no_room and owes a writable event.
    Status<ConnError> check_send(ConnId id) noexcept;
    /// Shuts down the write side: FIN after the queued data.
    void shutdown(ConnId id) noexcept;
    /// The application is done with the connection: the write side shuts
    /// down and the engine finishes the connection alone, raising no more
    /// events; the id must not be used again. Unread data, or data that
    /// arrives later, resets the connection instead (see tcp::close).
    void close(ConnId id) noexcept;
    /// Resets the connection and frees it. With the ready list, the id is
    /// stale at once and no entry follows; otherwise a closed event does.
    void abort(ConnId id) noexcept;
    /// The state of a connection, or nullopt for a stale id.
    std::optional<tcp::TcpState> state(ConnId id) noexcept;
    /// The addresses and ports of a connection, from our side, or nullopt for a stale id.
    std::optional<tcp::FourTuple> tuple(ConnId id) noexcept;
    /// Turns Nagle off or on for one connection.
    void set_nagle(ConnId id, bool on) noexcept;
    /// Keepalive for one connection (RFC 9293 section 3.8.4); the timer is
    /// armed from now when enabled. Ignored for a stale id.
    void set_keepalive(ConnId id, const tcp::KeepaliveConfig& k) noexcept;
    /// Whether close() aborts the connection (RST) instead of a FIN.
    void set_rst_on_close(ConnId id, bool on) noexcept;
    /// The connection's TCB, read only (the public API's info call and
    /// tests), or null for a stale id.
    const tcp::Tcb* tcb(ConnId id) noexcept { return lookup(id); }

    const EngineCounters& counters() noexcept;
    /// Connections, TIME-WAIT records apart.
    std::size_t connections() const noexcept { return conns_.size(); }
    std::size_t time_wait_records() const noexcept { return time_wait_.size(); }
    /// Connections in SYN-RECEIVED, kept as records.
    std::size_t half_open_records() const noexcept { return half_open_.size(); }
    std::size_t timers() const noexcept { return wheel_.size(); }
    /// Frames queued for drain().
    std::size_t tx_pending() const noexcept { return tx_.size(); }

private:
    using Conn = EngineConn;
    using Listener = EngineListener;

    tcp::TcpEnv env(time::Instant now) noexcept;
    /// Judges tcp::RxPressure from the pool's free share (once per burst).
    void update_rx_pressure() noexcept;
    void handle_frame(rte_mbuf* m, time::Instant now) noexcept;
    /// A segment for no connection. `reopens`: the SND.NXT of the TIME-WAIT
    /// record a SYN for this tuple has just replaced.
    void handle_no_connection(const tcp::FourTuple& tuple, tcp::Incoming in, time::Instant now,
                              std::optional<wire::Seq32> reopens = std::nullopt) noexcept;
    /// LISTEN receiving a SYN (RFC 9293 section 3.10.7.2): a record, or a cookie.
    void answer_syn(Listener& l, const tcp::FourTuple& tuple, const wire::TcpSegment& syn,
                    time::Instant now, std::optional<wire::Seq32> reopens) noexcept;
    /// LISTEN receiving an ACK that may complete a handshake answered with a
    /// cookie: the connection opens, or, when the cookie does not check, the
    /// segment is dropped. Returns false when the listener sent no cookie
    /// lately, and the ACK is for no connection.
    bool open_from_cookie(Listener& l, const tcp::FourTuple& tuple, tcp::Incoming& in,
                          time::Instant now) noexcept;
    /// A segment for a record in SYN-RECEIVED.
    void handle_half_open(HalfOpenRecord& r, tcp::Incoming in, time::Instant now) noexcept;
    /// The handshake of h completed with the segment in: a connection is made
    /// and takes the segment. Returns false when it could not be (no slot,
    /// accept queue full: dropped and counted, the peer will send again).
    bool open_connection(Listener& l, const tcp::HalfOpen& h, tcp::Incoming& in, time::Instant now) noexcept;
    void half_open_timeout(HalfOpenRecord& r, time::Instant now) noexcept;
    void free_half_open(HalfOpenRecord& r) noexcept;
    /// The connection's timestamp offset (RFC 7323 section 5.4): a keyed
    /// hash of its tuple, so that a cookie's connection gets the same one.
    std::uint32_t ts_offset(const tcp::FourTuple& tuple) const noexcept;
    /// A segment for a TIME-WAIT record. Returns false when the record made
    /// way for a new connection (the segment then goes to the listener).
    bool handle_time_wait(TimeWaitRecord& r, const wire::TcpSegment& seg, time::Instant now) noexcept;
    void shrink_to_time_wait(Conn& c, time::Instant now) noexcept;
    void free_time_wait(TimeWaitRecord& r) noexcept;
    bool tuple_in_use(const tcp::FourTuple& tuple) noexcept;
    Conn* new_conn(const tcp::FourTuple& tuple) noexcept;
    Conn* lookup(ConnId id) noexcept;
    void mark_dirty(Conn& c) noexcept;
    /// The application acted on c: its output runs at once, or with the
    /// next input() or poll() (EngineConfig::ready_list).
    void touched(Conn& c) noexcept;
    /// Records event e of connection index on the ready list.
    void make_ready(std::uint32_t index, Conn* c, tcp::ConnEvent e) noexcept;
    /// The application closed c: its entry on the ready list, if any, goes.
    void forget_ready(Conn& c) noexcept;
    void flush(time::Instant now) noexcept;
    void wrap_and_queue() noexcept;
    void handle_arp(wire::Bytes payload, time::Instant now) noexcept;
    void handle_icmp(const wire::Ipv4Packet& ip, time::Instant now) noexcept;
    /// An ICMP destination unreachable about the datagram ip (RFC 792),
    /// unless RFC 1122 section 3.2.2 forbids one or the rate limit is reached.
    void send_unreachable(const wire::Ipv4Packet& ip, std::uint8_t code, time::Instant now) noexcept;
    /// Builds and sends an ICMP message; false when no mbuf was free (counted).
    bool send_icmp(const wire::Icmpv4Repr& message, wire::Ipv4Addr dst) noexcept;
    /// Sends an L4 packet (its l4 header first) to dst over IPv4: routes,
    /// resolves the next hop (the neighbour cache may hold it), transmits.
    void send_ipv4(wire::MbufPtr packet, wire::Ipv4Addr dst, std::uint8_t protocol) noexcept;
    /// Adds the Ethernet header, finishes checksums and queues for drain().
    void transmit(wire::MbufPtr packet, wire::MacAddr dst) noexcept;
    void send_arp(std::uint16_t op, wire::MacAddr target_mac, wire::Ipv4Addr target_ip, wire::MacAddr to) noexcept;
    void collect_events() noexcept;
    void reap(time::Instant now) noexcept;
    void free_conn(Conn& c, time::Instant now) noexcept;
    Listener* find_listener(std::uint16_t port) noexcept;
    void drop(FrameDrop d) noexcept { ++counters_.frame_drops[static_cast<std::size_t>(d)]; }

    EngineConfig config_;
    rte_mempool* pool_;
    rte_mempool* ctrl_pool_;
    tcp::RxPressure rx_pressure_ = tcp::RxPressure::none;
    time::Instant now_;
    time::TimerWheel wheel_;
    tcp::ReassemblyPool ooo_pool_;
    ObjectPool<Conn> conn_pool_;
    FlowTable<Conn> conns_;
    net::NeighborCache neighbors_;
    time::Instant icmp_window_start_;
    std::uint32_t icmp_errors_in_window_ = 0;
    ObjectPool<TimeWaitRecord> time_wait_pool_;
    FlowTable<TimeWaitRecord> time_wait_;
    ObjectPool<HalfOpenRecord> half_open_pool_;
    FlowTable<HalfOpenRecord> half_open_;
    std::vector<Conn*> slots_;            // index -> connection, or nullptr
    std::vector<std::uint32_t> generation_; // per slot, bumped when freed
    std::vector<std::uint32_t> free_slots_;
    std::vector<std::unique_ptr<Listener>> listeners_;
    std::vector<Conn*> dirty_;            // connections to run output() on
    tcp::FixedQueue<tcp::OutSegment> out_;
    tcp::FixedQueue<tcp::EventRecord> tcp_events_;
    tcp::FixedQueue<Event> events_;
    std::vector<ReadyEntry> ready_; // reserved once: entries past ready_head_ are pending
    std::size_t ready_head_ = 0;
    tcp::FixedQueue<rte_mbuf*> tx_;
    tcp::IsnGenerator isn_;
    tcp::SynCookies cookies_;
    SipKey ts_key_;
    std::uint16_t next_port_;
    std::uint16_t ip_id_ = 0;
    EngineCounters counters_;
};

const char* to_string(FrameDrop d) noexcept;

} // namespace synack::engine
