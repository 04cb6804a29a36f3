// libFuzzer target: a whole engine::Engine (not only the parsers), driven by a
// sequence of steps decoded from the input: frames built around fuzzer-chosen
// fields so that most of them reach the TCP state machine of a listener or of
// a connection the engine opened itself, raw frames, ARP and other IPv4,
// application calls, time steps and drains. Invariants are checked after every
// step, on every frame the engine hands over, and at the end, when everything
// has been aborted and time has run on until no timer is left: then the engine
// must hold no connection, no TIME-WAIT record, no timer and no mbuf.
// Build and run: scripts/fuzz.sh engine. The input grammar and the invariants
// are in tests/fuzz/README.md; tests/fuzz/make_engine_corpus.py writes inputs
// in it. SYNACK_FUZZ_TRACE=1 prints each step as decoded, and each frame the
// engine sends.
//
// The engine needs an EAL and a mempool: started once per process (no
// hugepages, no PCI, no shared config), with a pool small enough that the
// inputs can exhaust it. One Engine per input, with small limits so that it is
// cheap to build and its limits are reachable.

#include "fuzz_support.hpp"

#include <synack/engine/engine.hpp>
#include <synack/wire/arp.hpp>
#include <synack/wire/build.hpp>
#include <synack/wire/checksum.hpp>
#include <synack/wire/ethernet.hpp>
#include <synack/wire/icmp.hpp>
#include <synack/wire/ip_proto.hpp>
#include <synack/wire/ipv4.hpp>
#include <synack/wire/tcp.hpp>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <algorithm>
#include <array>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace synack;
using engine::ConnId;
using engine::Engine;
using tcp::TcpState;
using time::Duration;
using time::Instant;
using wire::Seq32;
namespace flag = wire::tcp_flag;

// --- failure reports and the trace ---

// The step being run, named in every failure report.
std::size_t current_step = 0;
const char* current_op = "setup";

bool tracing() noexcept {
    static const bool on = std::getenv("SYNACK_FUZZ_TRACE") != nullptr;
    return on;
}

__attribute__((format(printf, 1, 2))) void trace_print(const char* format, ...) noexcept {
    va_list args;
    va_start(args, format);
    std::vfprintf(stderr, format, args);
    va_end(args);
}

// Prints what the failed check was looking at, then the line scripts/fuzz.sh
// takes as the summary ("fuzz check failed: ..."), and traps.
[[noreturn]] __attribute__((format(printf, 4, 5))) void
engine_check_failed(const char* expr, const char* file, int line, const char* format,
                    ...) noexcept {
    std::fprintf(stderr, "engine fuzz: step %zu (%s): ", current_step, current_op);
    va_list args;
    va_start(args, format);
    std::vfprintf(stderr, format, args);
    va_end(args);
    std::fputc('\n', stderr);
    synack::fuzz::check_failed(expr, file, line);
}

// Checks named in SYNACK_FUZZ_SKIP (comma-separated) are turned off: a long
// run can go on past a defect already reported and not yet fixed.
bool skipped(const char* name) noexcept {
    static const std::string list = [] {
        const char* s = std::getenv("SYNACK_FUZZ_SKIP");
        return "," + std::string(s != nullptr ? s : "") + ",";
    }();
    return list.find("," + std::string(name) + ",") != std::string::npos;
}

} // namespace

/// Prints a line of the trace; its arguments are evaluated only when tracing.
#define TRACE(...) (tracing() ? trace_print(__VA_ARGS__) : static_cast<void>(0))

/// Traps, with a printf-style account of the values involved, when expr is false.
#define ENGINE_CHECK(expr, ...)                                                                    \
    (__builtin_expect(static_cast<bool>(expr), 1)                                                  \
         ? static_cast<void>(0)                                                                    \
         : engine_check_failed(#expr, __FILE__, __LINE__, __VA_ARGS__))

namespace {

// --- the process: EAL and mempool ---

// Mbufs in the pool: enough for a few connections' buffers, few enough that
// the hoard step, or peers filling buffers, can run it dry: running out is one
// of the paths to explore.
constexpr unsigned pool_size = 2047;

rte_mempool* start_eal() noexcept {
    std::vector<std::string> args = {
        "fuzz-engine",    "--no-huge", "--no-pci", "--no-shconf",
        "--no-telemetry", "-m",        "128",      "--log-level=lib.*:error"};
    std::vector<char*> argv;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    if (rte_eal_init(static_cast<int>(argv.size()), argv.data()) < 0) {
        std::fprintf(stderr, "engine fuzz: EAL initialisation failed: %s\n",
                     rte_strerror(rte_errno));
        std::abort();
    }
    // No per-lcore cache: rte_mempool_in_use_count is then exact, which the
    // leak checks rely on.
    rte_mempool* p = rte_pktmbuf_pool_create("fuzz_engine_pool", pool_size, 0, 0,
                                             RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    if (p == nullptr) {
        std::fprintf(stderr, "engine fuzz: mempool creation failed: %s\n", rte_strerror(rte_errno));
        std::abort();
    }
    return p;
}

// Started on first use: libFuzzer calls LLVMFuzzerInitialize first, the
// replay driver goes straight to LLVMFuzzerTestOneInput.
rte_mempool* pool() noexcept {
    static rte_mempool* const p = start_eal();
    return p;
}

// Takes every mbuf out of the pool and puts them back: the pool must hold
// exactly pool_size of them, all distinct. A double free leaves a pointer
// twice in the ring, which rte_mempool_in_use_count cannot see (it clamps):
// one more get then succeeds, or, where an mbuf leaked as well, two of those
// taken are the same. The second test sorts the pool, so it runs on one input
// in 64 (and on every input of a replay, which runs few).
void check_pool_whole(bool full) noexcept {
    static std::vector<void*> objs(pool_size);
    ENGINE_CHECK(rte_mempool_get_bulk(pool(), objs.data(), pool_size) == 0,
                 "mbufs leaked: %u in use", rte_mempool_in_use_count(pool()));
    void* extra = nullptr;
    const bool more = rte_mempool_get(pool(), &extra) == 0;
    bool distinct = true;
    if (full) {
        std::vector<void*> sorted(objs);
        std::sort(sorted.begin(), sorted.end());
        distinct = std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end();
    }
    rte_mempool_put_bulk(pool(), objs.data(), pool_size);
    if (more) {
        rte_mempool_put(pool(), extra);
    }
    ENGINE_CHECK(!more && distinct, "an mbuf was freed twice (the pool holds duplicates)");
}

// --- the input ---

/// Reads the input front to back; past its end every read gives 0.
class Reader {
public:
    Reader(const std::uint8_t* data, std::size_t size) noexcept : p_(data), end_(data + size) {}
    bool empty() const noexcept { return p_ == end_; }
    std::uint8_t u8() noexcept { return p_ == end_ ? 0 : *p_++; }
    std::uint16_t u16() noexcept {
        const std::uint16_t hi = u8();
        return static_cast<std::uint16_t>((hi << 8) | u8());
    }
    std::uint32_t u32() noexcept {
        const std::uint32_t hi = u16();
        return (hi << 16) | u16();
    }
    /// Copies n bytes (zeros past the end of the input).
    void bytes(std::uint8_t* out, std::size_t n) noexcept {
        for (std::size_t i = 0; i < n; ++i) {
            out[i] = u8();
        }
    }

private:
    const std::uint8_t* p_;
    const std::uint8_t* end_;
};

// --- addresses ---

const wire::MacAddr our_mac{{0x02, 0, 0, 0, 0, 0x01}};
const wire::Ipv4Addr our_ip = wire::Ipv4Addr::from_octets(10, 0, 0, 1);
const wire::Ipv4Addr gateway_ip = wire::Ipv4Addr::from_octets(10, 0, 0, 254);
/// Peers 0 to 3 are on the link; peer 4 is beyond the gateway.
constexpr std::size_t peer_count = 5;
constexpr std::size_t off_link_peer = 4;
/// Ports the engine listens on (the first four also key passive flows).
constexpr std::array<std::uint16_t, 8> local_ports{80, 7, 5001, 443, 0, 65535, 1, 8080};
/// Source ports of the peers' active opens.
constexpr std::array<std::uint16_t, 4> peer_ports{40000, 40001, 1023, 65535};
/// Destination ports of the engine's active opens.
constexpr std::array<std::uint16_t, 4> server_ports{80, 22, 5001, 8080};

wire::Ipv4Addr peer_ip(std::size_t peer) noexcept {
    return peer == off_link_peer
               ? wire::Ipv4Addr::from_octets(192, 0, 2, 9)
               : wire::Ipv4Addr::from_octets(10, 0, 0, static_cast<std::uint8_t>(2 + peer));
}

/// Host h on the link: peers 0 to 3, and the gateway as host 4 (the MAC that
/// frames from the off-link peer come from).
wire::MacAddr host_mac(std::size_t host) noexcept {
    return {{0x02, 0, 0, 0, 0x01, static_cast<std::uint8_t>(host)}};
}

wire::Ipv4Addr host_ip(std::size_t host) noexcept {
    return host == off_link_peer ? gateway_ip : peer_ip(host);
}

std::string to_text(wire::Ipv4Addr a) {
    char s[20];
    std::snprintf(s, sizeof s, "%u.%u.%u.%u", a.value >> 24, (a.value >> 16) & 0xff,
                  (a.value >> 8) & 0xff, a.value & 0xff);
    return s;
}

wire::Ipv4Addr v4_of(const wire::Ipv6Addr& mapped) noexcept {
    return wire::Ipv4Addr::load(mapped.bytes.data() + 12);
}

tcp::FourTuple tuple_of(std::uint16_t local_port, wire::Ipv4Addr remote,
                        std::uint16_t remote_port) noexcept {
    return {tcp::FourTuple::mapped(our_ip), tcp::FourTuple::mapped(remote), local_port,
            remote_port};
}

// --- byte patterns ---

// A peer's byte at sequence number s: any two frames agree on the bytes they
// carry at a sequence number, whatever their boundaries, so what the
// application reads can be checked whatever the fuzzer did to segment it.
std::uint8_t peer_byte(Seq32 s) noexcept { return static_cast<std::uint8_t>(s.raw()); }

// Our byte at stream offset k of the connection the harness numbered salt:
// the salt tells which connection's data a segment carries.
std::uint8_t app_byte(std::uint32_t salt, std::uint64_t k) noexcept {
    const std::uint64_t x = k * 0x9e3779b1u + salt * 0x85ebca77u;
    return static_cast<std::uint8_t>(x ^ (x >> 13) ^ (x >> 24));
}

// RFC 7323 section 2.3, as tcp/control.cpp chooses it: the smallest shift
// that fits the receive buffer in 16 bits, at most 14.
std::uint8_t window_scale_for(std::uint32_t buffer_bytes) noexcept {
    std::uint8_t shift = 0;
    while (shift < 14 && (buffer_bytes >> shift) > 65535) {
        ++shift;
    }
    return shift;
}

// --- the configuration (the first three bytes) ---

struct FuzzConfig {
    engine::EngineConfig engine;
    bool arp = false; // next hops resolved by ARP rather than a fixed MAC
};

FuzzConfig decode_config(Reader& r) {
    const std::uint8_t a = r.u8();
    const std::uint8_t b = r.u8();
    const std::uint8_t c = r.u8();
    FuzzConfig f;
    engine::EngineConfig& e = f.engine;
    tcp::TcpConfig& t = e.tcp;
    e.mac = our_mac;
    e.ipv4 = our_ip;
    e.prefix_len = 24;
    e.secret = {0x5eed, 0xf022};

    // a: options (set bits turn the defaults off, or the extras on).
    t.window_scaling = (a & 0x01) == 0;
    t.timestamps = (a & 0x02) == 0;
    t.sack = (a & 0x04) == 0;
    t.nagle = (a & 0x08) == 0;
    t.keepalive.enabled = (a & 0x10) != 0;
    t.keepalive.idle = Duration::from_s(10);
    t.keepalive.interval = Duration::from_s(1);
    t.keepalive.probes = 3;
    f.arp = (a & 0x20) != 0;
    if (!f.arp) {
        e.next_hop_mac = host_mac(0);
    }
    if ((a & 0x40) != 0) {
        e.gateway = gateway_ip;
    }
    if ((a & 0x80) != 0) {
        e.tx_checksum = {true, true};
    }

    // b: sizes and timers.
    constexpr std::array<std::uint32_t, 4> buffers{262144, 8192, 70000, 1000};
    t.send_buffer_bytes = buffers[b & 3];
    t.recv_buffer_bytes = buffers[(b >> 2) & 3];
    constexpr std::array<std::uint16_t, 4> mss{1460, 536, 88, 4000};
    t.mss = mss[(b >> 4) & 3];
    constexpr std::array<std::int64_t, 4> msl_ms{30000, 1000, 10, 0};
    t.msl = Duration::from_ms(msl_ms[(b >> 6) & 3]);

    // c: limits and the timers' pace.
    const bool tight = (c & 0x01) != 0;
    e.max_connections = tight ? 3 : 16;
    e.max_listeners = tight ? 1 : 4;
    e.syn_backlog = tight ? 1 : 4;
    e.accept_backlog = tight ? 1 : 4;
    e.time_wait_records = tight ? 1 : 4;
    e.reassembly_segments = tight ? 4 : 64;
    t.ooo_max_segments = tight ? 2 : 32;
    t.ooo_max_bytes = tight ? 3000 : 64 * 1024;
    e.neighbors.capacity = tight ? 2 : 8;
    // Room for every event one step can raise, read after every step: a lost
    // event would hide a connection from the application for good.
    e.event_queue = 256;
    // The SYN cache is sized at construction: 16384 records by default are
    // far too many to build once per input, and never filled.
    e.half_open_records = tight ? 2 : 8;
    if ((c & 0x02) != 0) {
        t.rto_initial = Duration::from_ms(20);
        t.rto_min = Duration::from_ms(5);
        t.rto_max = Duration::from_s(60); // the least RFC 6298 section 2.5 allows
        t.data_retries = 4;
        t.syn_retries = 2;
        t.synack_retries = 2;
        t.fin_wait_2_timeout = Duration::from_ms(100);
        t.delayed_ack = Duration::from_ms(1);
        t.invalid_ack_interval = Duration::from_ms(1);
        e.neighbors.retry = Duration::from_ms(10);
        e.neighbors.reachable = Duration::from_ms(100);
    }
    constexpr std::array<std::uint32_t, 4> tx_queue{1024, 4, 32, 256};
    e.tx_queue = tx_queue[(c >> 2) & 3];
    constexpr std::array<std::uint16_t, 4> pending{16, 0, 1, 4};
    e.neighbors.max_pending = pending[(c >> 4) & 3];
    constexpr std::array<std::uint16_t, 4> ephemeral{28232, 1, 2, 8};
    e.ephemeral_port_min = 32768;
    e.ephemeral_port_max = static_cast<std::uint16_t>(32768 + ephemeral[(c >> 6) & 3] - 1);
    return f;
}

// --- what the harness knows of each connection and each 4-tuple ---

/// A connection the application knows of (from connect, accept or an event).
struct AppConn {
    ConnId id;
    std::uint32_t salt = 0; // its bytes are app_byte(salt, offset)
    tcp::FourTuple tuple;
    bool active = false;
    bool accepted = false;
    std::uint64_t given = 0; // bytes send() took
    bool write_shut = false; // shutdown() or close() while it lived: a FIN may follow
    bool app_closed = false; // close(): the id must not be used again, no event may come
    bool connected_event = false;
    bool closed_event = false;
    bool gone = false; // state() said stale: it stays so
    // The window scale it applies to its windows, when the frame that took
    // it out of SYN-SENT tells.
    std::optional<std::uint8_t> shift;
    // Low byte of the sequence number of its first unconsumed byte, once known.
    std::optional<std::uint8_t> next_in;
    std::uint64_t consumed = 0;
};

/// A 4-tuple: what the peer at its far end has sent (crafted frames follow
/// it), and what the engine sent on it since its latest SYN (an incarnation).
struct Flow {
    tcp::FourTuple tuple;
    std::size_t peer = 0; // whose MAC the crafted frames come from
    // The peer's side.
    Seq32 peer_nxt;
    std::uint32_t peer_ts = 1;
    // The engine's side, from the frames it sent.
    bool syn_seen = false;
    Seq32 iss;
    // The ISSs of the latest SYNs and SYN-ACKs seen, newest last (a ring).
    std::array<Seq32, 4> recent_iss{};
    std::size_t recent_count = 0;
    // A connection on this tuple was reported connected when this many
    // frames had been queued: what comes after may be another incarnation.
    std::optional<std::uint64_t> renew_mark;
    Seq32 snd_max;  // highest SEQ + LEN seen
    Seq32 last_ack; // the ACK field of its latest segment (its RCV.NXT)
    std::uint32_t ts_val = 0;
    bool ack_seen = false;
    Seq32 ack_max;
    bool edge_seen = false;
    Seq32 edge_max; // right edge of the window it advertised
    std::optional<std::uint8_t> shift;
    // Something the engine sent may never have reached the wire (a full
    // queue, no mbuf, no route): the incarnation seen may not be the latest,
    // so its checks wait for a SYN queued after the loss.
    bool uncertain = false;
    // The active open connect() started here (an index into the harness's
    // connections), whose SYN is yet to be seen: the first SYN drained after
    // pending_mark, the last frame queued before connect(). With ARP the SYN
    // may wait behind older frames, so it is not told apart there.
    std::optional<std::size_t> pending_conn;
    std::uint64_t pending_mark = 0;
    // The connection whose SYN began the incarnation seen, when known.
    std::optional<std::size_t> wire_conn;
    // The peer's use of timestamps contradicts its SYN (none where the SYN
    // had them, or an echo where it had none), or its options were raw
    // bytes: with a SYN cookie, which carries the options agreed in the
    // timestamps, the window scale in effect is then anyone's guess (Linux's
    // too), so the right edge is not checked.
    std::optional<bool> peer_syn_ts;
    bool peer_ts_mismatch = false;
};

/// A frame waiting in the burst, with what attribution needs.
struct BurstFrame {
    rte_mbuf* m = nullptr;
    std::optional<std::size_t> flow; // crafted frames only
    Seq32 seq;
    bool syn = false;
    bool options_known = true; // false: whether it offered window scaling is unknown here
    bool window_scale = false;
};

constexpr std::size_t max_burst = 32;
constexpr std::size_t max_steps = 4096;
constexpr std::size_t max_payload = 1700;
constexpr std::size_t frame_room = 2048;

enum class Op : std::uint8_t {
    frame,
    raw,
    arp,
    ip,
    listen,
    unlisten,
    connect,
    accept,
    send,
    read,
    shutdown,
    close,
    abort,
    nagle,
    advance,
    drain,
    hoard,
};
constexpr std::size_t op_count = 17;
static_assert(static_cast<std::size_t>(Op::hoard) + 1 == op_count);

const char* to_string(Op op) noexcept {
    switch (op) {
    case Op::frame: return "frame";
    case Op::raw: return "raw";
    case Op::arp: return "arp";
    case Op::ip: return "ip";
    case Op::listen: return "listen";
    case Op::unlisten: return "unlisten";
    case Op::connect: return "connect";
    case Op::accept: return "accept";
    case Op::send: return "send";
    case Op::read: return "read";
    case Op::shutdown: return "shutdown";
    case Op::close: return "close";
    case Op::abort: return "abort";
    case Op::nagle: return "nagle";
    case Op::advance: return "advance";
    case Op::drain: return "drain";
    case Op::hoard: return "hoard";
    }
    return "?";
}

std::string flags_text(std::uint8_t f) {
    std::string s;
    const char* names = "FSRPAUEC";
    for (int i = 0; i < 8; ++i) {
        if ((f & (1 << i)) != 0) {
            s += names[i];
        }
    }
    return s.empty() ? "-" : s;
}

// --- building frames ---

/// The fields of a TCP frame from a peer.
struct TcpFrame {
    std::size_t peer = 0;
    std::uint16_t src_port = 0;
    std::uint16_t dst_port = 0;
    Seq32 seq;
    Seq32 ack;
    std::uint8_t flags = 0;
    std::uint16_t window = 0;
    wire::TcpOptions options;
    std::array<std::uint8_t, 40> raw_options{};
    std::size_t raw_options_len = 0;
    bool use_raw_options = false;
    std::uint32_t payload_len = 0;
    std::uint8_t damage = 0; // see the grammar
};

// Damage bits of a crafted frame.
namespace damage {
constexpr std::uint8_t checksum_mask = 0x07; // which checksum goes wrong, and RX flags
constexpr std::uint8_t chained = 0x08;       // two mbufs
constexpr std::uint8_t padded = 0x10;        // bytes after the IP datagram
constexpr std::uint8_t vlan = 0x20;          // an 802.1Q tag
constexpr std::uint8_t ip_options = 0x40;    // four bytes of IPv4 options
constexpr std::uint8_t fragment = 0x80;      // MF set
} // namespace damage

std::size_t put_ethernet(std::uint8_t* out, const wire::MacAddr& src, bool vlan,
                         std::uint16_t ethertype) noexcept {
    std::copy(our_mac.bytes.begin(), our_mac.bytes.end(), out);
    std::copy(src.bytes.begin(), src.bytes.end(), out + 6);
    std::size_t at = 12;
    if (vlan) {
        wire::store_be16(out + at, 0x8100);
        wire::store_be16(out + at + 2, 0x0005);
        at += 4;
    }
    wire::store_be16(out + at, ethertype);
    return at + 2;
}

/// Writes an IPv4 header (checksum filled) for a payload of payload_len
/// bytes; returns its length.
std::size_t put_ipv4(std::uint8_t* out, wire::Ipv4Addr src, wire::Ipv4Addr dst,
                     std::uint8_t protocol, std::size_t payload_len, bool options,
                     bool fragment) noexcept {
    const std::size_t ihl = options ? 24 : 20;
    out[0] = static_cast<std::uint8_t>(0x40 | (ihl / 4));
    out[1] = 0;
    wire::store_be16(out + 2, static_cast<std::uint16_t>(ihl + payload_len));
    wire::store_be16(out + 4, 0x1234);
    wire::store_be16(out + 6, fragment ? 0x2000 : 0x4000);
    out[8] = 64;
    out[9] = protocol;
    wire::store_be16(out + 10, 0);
    src.store(out + 12);
    dst.store(out + 16);
    if (options) {
        out[20] = 1; // NOP, NOP, NOP, EOL
        out[21] = 1;
        out[22] = 1;
        out[23] = 0;
    }
    wire::store_be16(out + 10, wire::checksum({out, ihl}));
    return ihl;
}

std::uint16_t l4_checksum(wire::Ipv4Addr src, wire::Ipv4Addr dst, std::uint8_t protocol,
                          wire::Bytes l4) noexcept {
    wire::Checksum sum;
    sum.add16(wire::ipv4_pseudo_sum(src, dst, protocol, static_cast<std::uint16_t>(l4.size())));
    sum.add(l4);
    return sum.finish();
}

/// Writes the frame into out (frame_room bytes); returns its length.
std::size_t build_tcp_frame(const TcpFrame& f, std::uint8_t* out) noexcept {
    const bool vlan = (f.damage & damage::vlan) != 0;
    const bool ip_options = (f.damage & damage::ip_options) != 0;
    const wire::MacAddr src_mac = host_mac(f.peer);
    std::size_t at = put_ethernet(out, src_mac, vlan, 0x0800);

    std::array<std::uint8_t, 40> opts{};
    std::size_t opts_len = 0;
    if (f.use_raw_options) {
        std::copy_n(f.raw_options.begin(), f.raw_options_len, opts.begin());
        opts_len = (f.raw_options_len + 3) / 4 * 4; // padded with EOL
    } else {
        opts_len = f.options.emit(opts);
    }
    const std::size_t tcp_len = 20 + opts_len + f.payload_len;
    const std::size_t ip_at = at;
    at += put_ipv4(out + at, peer_ip(f.peer), our_ip, wire::ip_proto::tcp, tcp_len, ip_options,
                   (f.damage & damage::fragment) != 0);
    std::uint8_t* tcp = out + at;
    wire::store_be16(tcp, f.src_port);
    wire::store_be16(tcp + 2, f.dst_port);
    wire::store_be32(tcp + 4, f.seq.raw());
    wire::store_be32(tcp + 8, f.ack.raw());
    tcp[12] = static_cast<std::uint8_t>(((20 + opts_len) / 4) << 4);
    tcp[13] = f.flags;
    wire::store_be16(tcp + 14, f.window);
    wire::store_be16(tcp + 16, 0);
    wire::store_be16(tcp + 18, 0);
    std::copy_n(opts.begin(), opts_len, tcp + 20);
    const Seq32 first = f.seq + ((f.flags & flag::syn) != 0 ? 1u : 0u);
    for (std::uint32_t i = 0; i < f.payload_len; ++i) {
        tcp[20 + opts_len + i] = peer_byte(first + i);
    }
    wire::store_be16(tcp + 16,
                     l4_checksum(peer_ip(f.peer), our_ip, wire::ip_proto::tcp, {tcp, tcp_len}));
    at += tcp_len;
    switch (f.damage & damage::checksum_mask) {
    case 1: // TCP checksum wrong, verified in software: dropped
    case 3: // TCP checksum wrong, but the NIC says good: taken
    case 5: // TCP checksum wrong, the NIC says "none" (data known intact): taken
        tcp[16] ^= 0x5a;
        break;
    case 2: // IP header checksum wrong: dropped
    case 6: // IP header checksum wrong, the NIC says good: taken
        out[ip_at + 10] ^= 0xa5;
        break;
    default: break;
    }
    if ((f.damage & damage::padded) != 0) {
        // Ethernet padding, or a trailer: never part of the segment.
        const std::size_t pad = 1 + (f.payload_len % 31);
        for (std::size_t i = 0; i < pad; ++i) {
            out[at + i] = static_cast<std::uint8_t>(0xa5 ^ i);
        }
        at += pad;
    }
    return at;
}

// The RX checksum flags a NIC would have set for damage kind d.
std::uint64_t rx_flags_for(std::uint8_t d) noexcept {
    switch (d & damage::checksum_mask) {
    case 3: return RTE_MBUF_F_RX_L4_CKSUM_GOOD;
    case 4: return RTE_MBUF_F_RX_L4_CKSUM_BAD;
    case 5: return RTE_MBUF_F_RX_L4_CKSUM_NONE | RTE_MBUF_F_RX_IP_CKSUM_NONE;
    case 6: return RTE_MBUF_F_RX_IP_CKSUM_GOOD;
    default: return 0;
    }
}

// --- the harness ---

class Harness {
public:
    Harness(const FuzzConfig& config, Reader& r)
        : cfg_(config), r_(r), engine_(config.engine, pool(), now_) {
        flows_.reserve(64);
        conns_.reserve(64);
    }

    ~Harness() {
        release_hoard();
        for (const BurstFrame& b : burst_) {
            rte_pktmbuf_free(b.m);
        }
    }

    Harness(const Harness&) = delete;
    Harness& operator=(const Harness&) = delete;

    void run() {
        check_invariants();
        while (!r_.empty() && current_step < max_steps) {
            ++current_step;
            const auto op = static_cast<Op>(r_.u8() % op_count);
            current_op = to_string(op);
            if (op != Op::frame && !burst_.empty()) {
                // The held frames go in first, as a step of their own: the
                // application hears what they did before it acts.
                step_mark_ = frames_out_ + engine_.tx_pending();
                flush_burst();
                after_step();
            }
            step_mark_ = frames_out_ + engine_.tx_pending();
            do_step(op);
            after_step();
        }
        ++current_step;
        current_op = "finish";
        step_mark_ = frames_out_ + engine_.tx_pending();
        flush_burst();
        after_step();
        finish();
    }

private:
    const engine::EngineConfig& ecfg() const noexcept { return cfg_.engine; }
    const tcp::TcpConfig& tcfg() const noexcept { return cfg_.engine.tcp; }

    void do_step(Op op) {
        switch (op) {
        case Op::frame: step_frame(); break;
        case Op::raw: step_raw(); break;
        case Op::arp: step_arp(); break;
        case Op::ip: step_ip(); break;
        case Op::listen: step_listen(); break;
        case Op::unlisten: step_unlisten(); break;
        case Op::connect: step_connect(); break;
        case Op::accept: step_accept(); break;
        case Op::send: step_send(); break;
        case Op::read: step_read(); break;
        case Op::shutdown:
        case Op::close:
        case Op::abort:
        case Op::nagle: step_conn_call(op); break;
        case Op::advance: step_advance(); break;
        case Op::drain: step_drain(); break;
        case Op::hoard: step_hoard(); break;
        }
    }

    // --- flows and connections ---

    std::size_t flow_index(const tcp::FourTuple& t, std::size_t peer) {
        for (std::size_t i = 0; i < flows_.size(); ++i) {
            if (flows_[i].tuple == t) {
                return i;
            }
        }
        Flow f;
        f.tuple = t;
        f.peer = peer;
        // The peer's ISN until it sends a SYN of its own: spread out, one near the wrap.
        f.peer_nxt = Seq32(static_cast<std::uint32_t>(0xfffff000u + flows_.size() * 0x3b9aca07u));
        flows_.push_back(f);
        return flows_.size() - 1;
    }

    std::size_t peer_of(wire::Ipv4Addr a) const noexcept {
        for (std::size_t p = 0; p < peer_count; ++p) {
            if (peer_ip(p) == a) {
                return p;
            }
        }
        return 0;
    }

    std::size_t flow_of_tuple(const tcp::FourTuple& t) {
        return flow_index(t, peer_of(v4_of(t.remote_addr)));
    }

    AppConn* find_conn(ConnId id) noexcept {
        for (auto& c : conns_) {
            if (c.id == id) {
                return &c;
            }
        }
        return nullptr;
    }

    /// The application's record of id, made when it first hears of it.
    AppConn& learn_conn(ConnId id, bool active) {
        if (AppConn* c = find_conn(id)) {
            return *c;
        }
        ENGINE_CHECK(id.index < ecfg().max_connections, "connection id %u beyond the limit %u",
                     id.index, ecfg().max_connections);
        AppConn c;
        c.id = id;
        c.salt = static_cast<std::uint32_t>(conns_.size() + 1);
        c.active = active;
        if (auto t = engine_.tuple(id)) {
            c.tuple = *t;
            ENGINE_CHECK(v4_of(t->local_addr) == our_ip, "a connection not on our address");
            (void)flow_of_tuple(*t);
        } else {
            c.gone = true;
        }
        conns_.push_back(c);
        return conns_.back();
    }

    /// The connection a step names: one the application knows, or (255, or
    /// none known) an id that never existed. Closed ones are skipped: the API
    /// forbids using an id after close().
    AppConn* pick_conn(std::uint8_t sel, ConnId& id) noexcept {
        if (conns_.empty() || sel == 0xff) {
            id = ConnId{sel % 64u, 0xdead0000u}; // a generation no slot reaches
            return nullptr;
        }
        AppConn& c = conns_[sel % conns_.size()];
        id = c.id;
        return &c;
    }

    // --- frames to the engine ---

    rte_mbuf* mbuf_of(const std::uint8_t* bytes, std::size_t len, std::size_t split) noexcept {
        rte_mbuf* head = rte_pktmbuf_alloc(pool());
        if (head == nullptr) {
            return nullptr;
        }
        const std::size_t first = split != 0 && split < len ? split : len;
        char* p = rte_pktmbuf_append(head, static_cast<std::uint16_t>(first));
        if (p == nullptr) {
            rte_pktmbuf_free(head);
            return nullptr;
        }
        std::memcpy(p, bytes, first);
        if (first < len) {
            rte_mbuf* tail = rte_pktmbuf_alloc(pool());
            char* q = tail != nullptr
                          ? rte_pktmbuf_append(tail, static_cast<std::uint16_t>(len - first))
                          : nullptr;
            if (q == nullptr) {
                rte_pktmbuf_free(tail);
                rte_pktmbuf_free(head);
                return nullptr;
            }
            std::memcpy(q, bytes + first, len - first);
            if (rte_pktmbuf_chain(head, tail) != 0) {
                rte_pktmbuf_free(tail);
                rte_pktmbuf_free(head);
                return nullptr;
            }
        }
        return head;
    }

    void queue_frame(const BurstFrame& b, bool hold) {
        held_mbufs_ += b.m->nb_segs;
        burst_.push_back(b);
        if (!hold || burst_.size() == max_burst) {
            flush_burst();
        }
    }

    void input_now(rte_mbuf* m) {
        BurstFrame b;
        b.m = m;
        queue_frame(b, false);
    }

    void flush_burst() {
        if (burst_.empty()) {
            return;
        }
        // Active opens waiting in SYN-SENT: the frame that moves one on tells
        // its peer's ISN and whether window scaling was agreed.
        std::vector<std::size_t> waiting;
        for (std::size_t i = 0; i < conns_.size(); ++i) {
            const AppConn& c = conns_[i];
            if (c.active && !c.gone && !c.app_closed && engine_.state(c.id) == TcpState::syn_sent) {
                waiting.push_back(i);
            }
        }
        std::array<rte_mbuf*, max_burst> pkts{};
        for (std::size_t i = 0; i < burst_.size(); ++i) {
            pkts[i] = burst_[i].m;
        }
        frames_in_ += burst_.size();
        held_mbufs_ = 0;
        engine_.input(pkts.data(), static_cast<std::uint16_t>(burst_.size()), now_);
        for (std::size_t i : waiting) {
            AppConn& c = conns_[i];
            const auto st = engine_.state(c.id);
            if (!st || *st == TcpState::syn_sent) {
                continue;
            }
            const std::size_t fi = flow_of_tuple(c.tuple);
            const BurstFrame* taken = nullptr;
            std::size_t candidates = 0;
            bool raw = false;
            for (const BurstFrame& b : burst_) {
                raw = raw || !b.flow;
                if (b.flow == fi && b.syn) {
                    taken = &b;
                    ++candidates;
                }
            }
            if (candidates == 1 && !raw) {
                if (taken->options_known) {
                    c.shift = taken->window_scale && tcfg().window_scaling
                                  ? window_scale_for(tcfg().recv_buffer_bytes)
                                  : 0;
                }
                if (!c.next_in) {
                    c.next_in = peer_byte(taken->seq + 1 + static_cast<std::uint32_t>(c.consumed));
                }
                TRACE("  SYN-SENT left on the peer's SYN seq=%u\n", taken->seq.raw());
                Flow& f = flows_[fi];
                if (f.wire_conn == i && !f.shift) {
                    f.shift = c.shift;
                }
            }
        }
        burst_.clear();
    }

    // Crafted frame: see the grammar in tests/fuzz/README.md.
    void step_frame() {
        const std::uint8_t sel = r_.u8();
        const std::uint8_t flags = r_.u8();
        const std::uint8_t modes = r_.u8();
        std::size_t fi = 0;
        if ((sel & 0x80) != 0 && !active_flows_.empty()) {
            fi = active_flows_[(sel & 0x7f) % active_flows_.size()];
        } else {
            const std::size_t peer = (sel & 0x40) != 0 ? off_link_peer : (sel & 3u);
            const std::uint16_t peer_port = peer_ports[(sel >> 2) & 3];
            const std::uint16_t local_port = local_ports[(sel >> 4) & 3];
            fi = flow_index(tuple_of(local_port, peer_ip(peer), peer_port), peer);
        }
        Flow& f = flows_[fi];
        TcpFrame t;
        t.peer = f.peer;
        t.src_port = f.tuple.remote_port;
        t.dst_port = f.tuple.local_port;
        t.flags = flags;
        switch (modes & 3) {
        case 0: t.seq = f.peer_nxt; break;
        case 1:
            t.seq = f.peer_nxt + static_cast<std::uint32_t>(static_cast<std::int8_t>(r_.u8()));
            break;
        case 2:
            t.seq = f.last_ack + static_cast<std::uint32_t>(static_cast<std::int16_t>(r_.u16()));
            break;
        default: t.seq = Seq32(r_.u32()); break;
        }
        switch ((modes >> 2) & 3) {
        case 0: t.ack = f.snd_max; break;
        case 1:
            t.ack = f.snd_max + static_cast<std::uint32_t>(static_cast<std::int8_t>(r_.u8()));
            break;
        case 2: t.ack = f.snd_max - r_.u16(); break;
        default: t.ack = Seq32(r_.u32()); break;
        }
        t.window = r_.u16();
        if ((modes & 0x10) != 0) {
            decode_options(f, t);
        }
        if ((modes & 0x20) != 0) {
            t.payload_len = r_.u16() % (max_payload + 1);
        }
        if ((modes & 0x40) != 0) {
            t.damage = r_.u8();
        }
        // SYNACK_FUZZ_SKIP=burst: every frame in an input() of its own.
        const bool hold = (modes & 0x80) != 0 && !skipped("burst");

        // Timestamps where the SYN had none count as a contradiction only
        // when they echo something: a TSecr of 0 cannot be taken for one a
        // cookie carried.
        const auto& ts = t.options.timestamps;
        if ((flags & flag::syn) != 0) {
            f.peer_syn_ts = t.use_raw_options || ts.has_value();
        } else if (t.use_raw_options || (f.peer_syn_ts == true && !ts) ||
                   (f.peer_syn_ts == false && ts && ts->echo_reply != 0)) {
            f.peer_ts_mismatch = true;
        }
        if (t.use_raw_options) {
            f.peer_ts_mismatch = true;
        }

        // The peer's own view moves on as a real sender's would.
        const std::uint32_t len = t.payload_len + ((flags & flag::fin) != 0 ? 1u : 0u);
        if ((flags & flag::syn) != 0) {
            f.peer_nxt = t.seq + 1 + len;
        } else if (before_eq(t.seq, f.peer_nxt) && after(t.seq + len, f.peer_nxt)) {
            f.peer_nxt = t.seq + len;
        }

        std::array<std::uint8_t, frame_room> buf;
        const std::size_t n = build_tcp_frame(t, buf.data());
        const std::size_t split =
            (t.damage & damage::chained) != 0 ? 1 + (t.seq.raw() % (n - 1)) : 0;
        TRACE("step %zu frame %s:%u -> :%u %s seq=%u ack=%u win=%u len=%u opts=%zu damage=%02x%s\n",
              current_step, to_text(peer_ip(t.peer)).c_str(), t.src_port, t.dst_port,
              flags_text(flags).c_str(), t.seq.raw(), t.ack.raw(), t.window, t.payload_len,
              t.use_raw_options ? t.raw_options_len : t.options.encoded_len(), t.damage,
              hold ? " (held)" : "");
        rte_mbuf* m = mbuf_of(buf.data(), n, split);
        if (m == nullptr) {
            TRACE("  no mbuf for it\n");
            return;
        }
        m->ol_flags |= rx_flags_for(t.damage);
        BurstFrame b;
        b.m = m;
        b.flow = fi;
        b.seq = t.seq;
        b.syn = (flags & flag::syn) != 0;
        // What the engine makes of raw options is its parser's business.
        b.options_known = !t.use_raw_options;
        b.window_scale = t.options.window_scale.has_value();
        queue_frame(b, hold);
    }

    void decode_options(Flow& f, TcpFrame& t) {
        const std::uint8_t o = r_.u8();
        if ((o & 0x40) != 0) {
            t.use_raw_options = true;
            t.raw_options_len = r_.u8() % 41;
            r_.bytes(t.raw_options.data(), t.raw_options_len);
            return;
        }
        if ((o & 0x01) != 0) {
            t.options.mss = r_.u16();
        }
        if ((o & 0x02) != 0) {
            t.options.window_scale = r_.u8();
        }
        t.options.sack_permitted = (o & 0x04) != 0;
        if ((o & 0x08) != 0) {
            const auto delta = static_cast<std::int8_t>(r_.u8());
            const std::uint32_t value = f.peer_ts + static_cast<std::uint32_t>(delta);
            const std::uint32_t echo = (o & 0x10) != 0 ? r_.u32() : f.ts_val;
            t.options.timestamps = wire::Timestamps{value, echo};
            if (static_cast<std::int32_t>(value - f.peer_ts) > 0) {
                f.peer_ts = value;
            }
        }
        if ((o & 0x20) != 0) {
            const std::uint8_t n = r_.u8() % 5;
            t.options.sack_count = n;
            for (std::uint8_t i = 0; i < n; ++i) {
                const Seq32 left = t.ack + r_.u16();
                t.options.sack[i] = {left, left + r_.u16()};
            }
        }
    }

    void step_raw() {
        const std::uint8_t how = r_.u8();
        const std::size_t len = r_.u16() % 1601;
        std::array<std::uint8_t, frame_room> buf{};
        r_.bytes(buf.data(), len);
        fix_raw_frame({buf.data(), len}, (how & 1) != 0, (how & 2) != 0);
        TRACE("step %zu raw %zu bytes how=%02x\n", current_step, len, how);
        // A raw segment to us with data may carry any bytes: what the
        // application reads is no longer the peers' pattern.
        if (auto eth = wire::parse_ethernet({buf.data(), len});
            eth && eth->ethertype == wire::ethertype::ipv4) {
            auto ip = wire::parse_ipv4(eth->payload, wire::ChecksumCheck::known_good());
            if (ip && ip->dst() == our_ip && ip->protocol() == wire::ip_proto::tcp) {
                auto seg = wire::parse_tcp(ip->payload(), wire::ChecksumCheck::known_good());
                if (seg && !seg->payload().empty()) {
                    read_checks_ = false;
                }
            }
        }
        rte_mbuf* m = mbuf_of(buf.data(), len, (how & 4) != 0 ? len / 2 : 0);
        if (m == nullptr) {
            return;
        }
        input_now(m);
    }

    // Points an IPv4 frame at us and makes its checksums right, as asked:
    // so that random bytes get past the checks a real frame would pass.
    static void fix_raw_frame(wire::MutBytes frame, bool retarget, bool fix) noexcept {
        auto eth = wire::parse_ethernet(frame);
        if (!eth || eth->ethertype != wire::ethertype::ipv4 || eth->payload.size() < 20) {
            return;
        }
        auto* ip = const_cast<std::uint8_t*>(eth->payload.data());
        if (retarget) {
            our_ip.store(ip + 16);
        }
        if (!fix) {
            return;
        }
        const std::size_t ihl = (ip[0] & 0x0fu) * 4u;
        if ((ip[0] >> 4) != 4 || ihl < 20 || ihl > eth->payload.size()) {
            return;
        }
        wire::store_be16(ip + 10, 0);
        wire::store_be16(ip + 10, wire::checksum({ip, ihl}));
        const std::size_t total =
            std::min<std::size_t>(wire::load_be16(ip + 2), eth->payload.size());
        if (total <= ihl) {
            return;
        }
        std::uint8_t* l4 = ip + ihl;
        const std::size_t l4_len = total - ihl;
        const wire::Ipv4Addr src = wire::Ipv4Addr::load(ip + 12);
        const wire::Ipv4Addr dst = wire::Ipv4Addr::load(ip + 16);
        if (ip[9] == wire::ip_proto::tcp && l4_len >= 20) {
            wire::store_be16(l4 + 16, 0);
            wire::store_be16(l4 + 16, l4_checksum(src, dst, wire::ip_proto::tcp, {l4, l4_len}));
        } else if (ip[9] == wire::ip_proto::icmp && l4_len >= 8) {
            wire::store_be16(l4 + 2, 0);
            wire::store_be16(l4 + 2, wire::checksum({l4, l4_len}));
        }
    }

    void step_arp() {
        const std::uint8_t b = r_.u8();
        const std::size_t host = (b & 7u) % 5;
        wire::ArpRepr arp;
        arp.op =
            static_cast<std::uint16_t>((b & 0x08) != 0 ? wire::ArpOp::reply : wire::ArpOp::request);
        arp.sender_mac = host_mac(host);
        if ((b & 0x40) != 0) {
            arp.sender_mac.bytes[0] |= 0x01; // a group address: never learnt
        }
        arp.sender_ip = (b & 0x20) != 0 ? our_ip : host_ip(host);
        if ((b & 0x80) != 0) {
            arp.sender_ip = wire::Ipv4Addr{}; // a probe (RFC 5227)
        }
        arp.target_ip = (b & 0x10) != 0 ? wire::Ipv4Addr::from_octets(10, 0, 0, 77) : our_ip;
        arp.target_mac = arp.is_reply() ? our_mac : wire::MacAddr{};
        std::array<std::uint8_t, 64> buf{};
        const std::size_t at =
            put_ethernet(buf.data(), host_mac(host), false, wire::ethertype::arp);
        arp.emit({buf.data() + at, wire::arp_len});
        TRACE("step %zu arp %s from host %zu (%s)\n", current_step,
              arp.is_reply() ? "reply" : "request", host, to_text(arp.sender_ip).c_str());
        if (rte_mbuf* m = mbuf_of(buf.data(), at + wire::arp_len, 0)) {
            input_now(m);
        }
    }

    void step_ip() {
        const std::uint8_t b = r_.u8();
        const std::size_t peer = ((b >> 2) & 7) % peer_count;
        const std::size_t body = r_.u8();
        std::array<std::uint8_t, frame_room> buf{};
        std::uint8_t protocol = 0;
        std::size_t l4_len = 0;
        std::array<std::uint8_t, 600> l4{};
        std::array<std::uint8_t, 256> data{};
        for (std::size_t i = 0; i < body; ++i) {
            data[i] = static_cast<std::uint8_t>(i * 7);
        }
        switch (b & 3) {
        case 0:
        case 1: {
            protocol = wire::ip_proto::icmp;
            const std::uint8_t type = (b & 3) == 0 ? wire::icmp_type::echo_request : r_.u8();
            const wire::Icmpv4Repr icmp{type, 0, 0x00010002, {data.data(), body}};
            l4_len = icmp.len();
            icmp.emit({l4.data(), l4_len});
            break;
        }
        case 2:
            protocol = wire::ip_proto::udp;
            l4_len = 8 + body;
            wire::store_be16(l4.data(), 5353);
            wire::store_be16(l4.data() + 2, 53);
            wire::store_be16(l4.data() + 4, static_cast<std::uint16_t>(l4_len));
            std::copy_n(data.begin(), body, l4.begin() + 8); // checksum 0: none (RFC 768)
            break;
        default:
            protocol = r_.u8();
            l4_len = body;
            std::copy_n(data.begin(), body, l4.begin());
            break;
        }
        wire::Ipv4Addr src = peer_ip(peer);
        if ((b & 0x20) != 0) {
            src = wire::Ipv4Addr::from_octets(224, 0, 0, 5); // never answered with an error
        }
        std::size_t at = put_ethernet(buf.data(), host_mac(peer), false, 0x0800);
        at += put_ipv4(buf.data() + at, src, our_ip, protocol, l4_len, false, false);
        std::copy_n(l4.begin(), l4_len, buf.begin() + static_cast<std::ptrdiff_t>(at));
        TRACE("step %zu ip protocol %u, %zu bytes, from %s\n", current_step, protocol, l4_len,
              to_text(src).c_str());
        if (rte_mbuf* m = mbuf_of(buf.data(), at + l4_len, 0)) {
            input_now(m);
        }
    }

    // --- the application ---

    void step_listen() {
        const std::uint16_t port = local_ports[r_.u8() % local_ports.size()];
        const bool was = std::find(listening_.begin(), listening_.end(), port) != listening_.end();
        const auto r = engine_.listen(port);
        TRACE("step %zu listen %u: %s\n", current_step, port, r.ok() ? "ok" : "refused");
        if (r.ok()) {
            ENGINE_CHECK(!was && listening_.size() < ecfg().max_listeners,
                         "listen(%u) took a port in use or one too many", port);
            listening_.push_back(port);
        } else if (r.error() == engine::ListenError::port_in_use) {
            ENGINE_CHECK(was, "listen(%u): port_in_use, yet nobody listens there", port);
        } else {
            ENGINE_CHECK(!was && listening_.size() >= ecfg().max_listeners,
                         "listen(%u): too_many_listeners with %zu of %u", port, listening_.size(),
                         ecfg().max_listeners);
        }
    }

    void step_unlisten() {
        const std::uint16_t port = local_ports[r_.u8() % local_ports.size()];
        TRACE("step %zu unlisten %u\n", current_step, port);
        engine_.unlisten(port);
        std::erase(listening_, port);
    }

    void step_connect() {
        const std::uint8_t b = r_.u8();
        const std::size_t peer = (b & 7u) % peer_count;
        const std::uint16_t port = server_ports[(b >> 3) & 3];
        const std::uint16_t local = (b & 0x20) != 0 ? local_ports[(b >> 6) & 3] : 0;
        const std::uint64_t mark = frames_out_ + engine_.tx_pending();
        const auto r = engine_.connect(peer_ip(peer), port, now_, local);
        TRACE("step %zu connect %s:%u from %u: %s\n", current_step, to_text(peer_ip(peer)).c_str(),
              port, local, r.ok() ? "ok" : "refused");
        if (!r.ok()) {
            if (r.error() == engine::ConnectError::no_connection_slot) {
                ENGINE_CHECK(engine_.connections() >= ecfg().max_connections,
                             "no_connection_slot with %zu of %u connections", engine_.connections(),
                             ecfg().max_connections);
            }
            return;
        }
        AppConn& c = learn_conn(*r, true);
        ENGINE_CHECK(!c.gone && engine_.state(c.id) == TcpState::syn_sent,
                     "a new active open is not in SYN-SENT");
        ENGINE_CHECK(v4_of(c.tuple.remote_addr) == peer_ip(peer) && c.tuple.remote_port == port,
                     "connect() opened to another address or port");
        if (local != 0) {
            ENGINE_CHECK(c.tuple.local_port == local, "connect() from %u, asked for %u",
                         c.tuple.local_port, local);
        } else {
            ENGINE_CHECK(c.tuple.local_port >= ecfg().ephemeral_port_min &&
                             c.tuple.local_port <= ecfg().ephemeral_port_max,
                         "ephemeral port %u outside the range", c.tuple.local_port);
        }
        const std::size_t fi = flow_index(c.tuple, peer);
        flows_[fi].pending_conn = static_cast<std::size_t>(&c - conns_.data());
        flows_[fi].pending_mark = mark;
        if (std::find(active_flows_.begin(), active_flows_.end(), fi) == active_flows_.end()) {
            active_flows_.push_back(fi);
        }
    }

    void step_accept() {
        const std::uint16_t port = local_ports[r_.u8() % local_ports.size()];
        accept_on(port);
    }

    void accept_on(std::uint16_t port) {
        const auto id = engine_.accept(port);
        TRACE("step %zu accept %u: %s\n", current_step, port, id ? "a connection" : "none");
        if (!id) {
            return;
        }
        ENGINE_CHECK(std::find(listening_.begin(), listening_.end(), port) != listening_.end(),
                     "accept(%u) gave a connection with nobody listening", port);
        AppConn& c = learn_conn(*id, false);
        ENGINE_CHECK(!c.accepted && !c.active, "a connection accepted twice, or an active one");
        c.accepted = true;
        const auto st = engine_.state(c.id);
        ENGINE_CHECK(st && tcp::is_synchronized(*st), "accepted a connection in state %s",
                     st ? tcp::to_string(*st) : "stale");
        ENGINE_CHECK(c.tuple.local_port == port, "accept(%u) gave a connection on port %u", port,
                     c.tuple.local_port);
    }

    void step_send() {
        ConnId id;
        AppConn* c = pick_conn(r_.u8(), id);
        const std::size_t len = r_.u16() % 6001;
        const std::uint8_t pieces = 1 + r_.u8() % 4;
        if (c != nullptr && c->app_closed) {
            return;
        }
        // The bytes, cut into pieces: each mbuf holds at most its data room.
        wire::MbufPtr chain;
        std::size_t at = 0;
        const std::uint32_t salt = c != nullptr ? c->salt : 0;
        const std::uint64_t base = c != nullptr ? c->given : 0;
        std::size_t built = 0;
        for (std::uint8_t i = 0; i < pieces && built <= len; ++i) {
            wire::MbufPtr m = engine_.alloc_buffer();
            if (!m) {
                TRACE("step %zu send: no buffer\n", current_step);
                return;
            }
            // Half of what is left in each piece, the rest in the last one;
            // what does not fit in the pieces is not sent.
            const std::size_t room = rte_pktmbuf_tailroom(m.get());
            const std::size_t n = std::min(room, i + 1 == pieces ? len - built : (len - built) / 2);
            auto* p = reinterpret_cast<std::uint8_t*>(
                rte_pktmbuf_append(m.get(), static_cast<std::uint16_t>(n)));
            for (std::size_t k = 0; k < n; ++k) {
                p[k] = app_byte(salt, base + at + k);
            }
            at += n;
            built += n;
            if (!chain) {
                chain = std::move(m);
            } else if (rte_pktmbuf_chain(chain.get(), m.get()) == 0) {
                (void)m.release();
            } else {
                break;
            }
        }
        const std::size_t bytes = chain ? chain->pkt_len : 0;
        const bool had_chain = static_cast<bool>(chain);
        const auto st = engine_.state(id);
        const std::uint32_t room_before = engine_.writable(id);
        const auto r = engine_.send(id, chain);
        TRACE("step %zu send %zu bytes on %u.%u: %s\n", current_step, bytes, id.index,
              id.generation, r.ok() ? "ok" : "refused");
        if (!st) {
            ENGINE_CHECK(!r.ok() && r.error() == engine::ConnError::stale_id,
                         "send() on a stale id did not say stale_id");
            return;
        }
        if (r.ok()) {
            ENGINE_CHECK(!chain, "send() succeeded and left the chain with the caller");
            ENGINE_CHECK(bytes != 0 && bytes <= room_before,
                         "send() took %zu bytes with room for %u", bytes, room_before);
            ENGINE_CHECK(engine_.writable(id) == room_before - bytes,
                         "room after sending %zu bytes: %u, before: %u", bytes,
                         engine_.writable(id), room_before);
            ENGINE_CHECK(*st == TcpState::syn_sent || *st == TcpState::syn_received ||
                             *st == TcpState::established || *st == TcpState::close_wait,
                         "send() took data in %s", tcp::to_string(*st));
            if (c != nullptr) {
                c->given += bytes;
            }
            return;
        }
        ENGINE_CHECK(static_cast<bool>(chain) == had_chain, "a refused send() took the chain");
        switch (r.error()) {
        case engine::ConnError::stale_id:
            ENGINE_CHECK(false, "send() said stale_id on a live id");
            break;
        case engine::ConnError::not_connected:
            ENGINE_CHECK(false, "send() said not_connected in %s", tcp::to_string(*st));
            break;
        case engine::ConnError::write_closed:
            ENGINE_CHECK((c != nullptr && c->write_shut) || *st == TcpState::fin_wait_1 ||
                             *st == TcpState::fin_wait_2 || *st == TcpState::closing ||
                             *st == TcpState::last_ack || *st == TcpState::time_wait,
                         "send() said write_closed in %s", tcp::to_string(*st));
            break;
        case engine::ConnError::no_room:
            ENGINE_CHECK(bytes == 0 || bytes > room_before,
                         "send() of %zu bytes: no_room with room for %u", bytes, room_before);
            break;
        }
    }

    void step_read() {
        ConnId id;
        AppConn* c = pick_conn(r_.u8(), id);
        const std::uint8_t how = r_.u8();
        if (c != nullptr && c->app_closed) {
            return;
        }
        const std::uint32_t n = check_readable(id, c);
        std::uint32_t take = 0;
        switch (how & 3) {
        case 0: take = n; break;
        case 1: take = how >> 2; break;
        case 2: take = 0; break;
        default: take = UINT32_MAX; break; // more than held: the engine takes what there is
        }
        TRACE("step %zu read %u of %u bytes on %u.%u\n", current_step, std::min(take, n), n,
              id.index, id.generation);
        engine_.consume(id, take);
        if (c != nullptr) {
            const std::uint32_t done = std::min(take, n);
            c->consumed += done;
            if (c->next_in) {
                *c->next_in = static_cast<std::uint8_t>(*c->next_in + done);
            }
            // Out-of-order data that found no room before may have moved in.
            ENGINE_CHECK(engine_.readable(id) >= n - done || !engine_.state(id),
                         "after consuming %u of %u bytes, %u are readable", done, n,
                         engine_.readable(id));
        }
    }

    /// Peeks at everything readable on id, checks it, returns the count.
    std::uint32_t check_readable(ConnId id, AppConn* c) {
        const std::uint32_t readable = engine_.readable(id);
        std::size_t spans = engine_.peek(id, peek_.data(), peek_.size());
        std::uint64_t sum = 0;
        // The low byte of the sequence number of the next byte, or -1 until known.
        int next = c != nullptr && c->next_in ? *c->next_in : -1;
        for (std::size_t i = 0; i < spans; ++i) {
            const wire::Bytes s = peek_[i];
            ENGINE_CHECK(!s.empty(), "peek() gave an empty span");
            sum += s.size();
            if (!read_checks_) {
                continue;
            }
            for (std::size_t k = 0; k < s.size(); ++k) {
                if (next < 0) {
                    next = s[k];
                }
                ENGINE_CHECK(s[k] == next,
                             "received byte %" PRIu64 " is %02x, the peer sent %02x there",
                             c != nullptr ? c->consumed + (sum - s.size()) + k : 0, s[k], next);
                next = (next + 1) & 0xff;
            }
        }
        ENGINE_CHECK(spans == peek_.size() || sum == readable,
                     "peek() shows %" PRIu64 " bytes, readable() says %u", sum, readable);
        ENGINE_CHECK(readable <= tcfg().recv_buffer_bytes, "%u bytes readable, the buffer holds %u",
                     readable, tcfg().recv_buffer_bytes);
        if (c != nullptr && !c->next_in && next >= 0 && sum != 0) {
            c->next_in = static_cast<std::uint8_t>(next - static_cast<int>(sum % 256));
        }
        return readable;
    }

    void step_conn_call(Op op) {
        ConnId id;
        AppConn* c = pick_conn(r_.u8(), id);
        const std::uint8_t arg = op == Op::nagle ? r_.u8() : 0;
        if (c != nullptr && c->app_closed) {
            return;
        }
        const auto st = engine_.state(id);
        TRACE("step %zu %s on %u.%u (%s)\n", current_step, current_op, id.index, id.generation,
              st ? tcp::to_string(*st) : "stale");
        switch (op) {
        case Op::shutdown:
            engine_.shutdown(id);
            if (c != nullptr && st) {
                c->write_shut = true;
            }
            break;
        case Op::close:
            engine_.close(id);
            if (c != nullptr && st) {
                c->write_shut = true;
                c->app_closed = true;
            }
            break;
        case Op::abort:
            engine_.abort(id);
            ENGINE_CHECK(!engine_.state(id), "abort() left the connection");
            break;
        case Op::nagle: engine_.set_nagle(id, (arg & 1) != 0); break;
        default: break;
        }
    }

    // --- time and the wire ---

    void step_advance() {
        const std::uint8_t how = r_.u8();
        switch (how & 7) {
        case 0: break;
        case 1: now_ += Duration::from_us((r_.u8() + 1) * 100); break;
        case 2: now_ += Duration::from_ms(r_.u16()); break;
        case 3: now_ += Duration::from_s(r_.u16()); break;
        case 4:
            now_ = std::max(now_, engine_.next_wakeup().value_or(now_ + Duration::from_ms(1)));
            break;
        case 5: {
            // Timer after timer: each poll at the next wakeup, as a run loop sleeps.
            const unsigned rounds = 1 + (how >> 3);
            for (unsigned i = 1; i < rounds; ++i) {
                now_ = std::max(now_, engine_.next_wakeup().value_or(now_ + Duration::from_ms(1)));
                engine_.poll(now_);
                note_losses();
            }
            now_ = std::max(now_, engine_.next_wakeup().value_or(now_ + Duration::from_ms(1)));
            break;
        }
        case 6: now_ += Duration::from_s(std::int64_t{r_.u8()} * 86400); break;
        default: now_ += Duration::from_ms(std::int64_t{r_.u8()} * 10); break;
        }
        TRACE("step %zu advance to %" PRIu64 " us\n", current_step, now_.us());
        engine_.poll(now_);
    }

    void step_drain() {
        const std::uint8_t max = r_.u8();
        TRACE("step %zu drain %s\n", current_step, max == 0 ? "all" : std::to_string(max).c_str());
        drain(max == 0 ? SIZE_MAX : max);
    }

    void drain(std::size_t max) {
        std::array<rte_mbuf*, 32> out{};
        while (max != 0) {
            const auto want = static_cast<std::uint16_t>(std::min<std::size_t>(max, out.size()));
            const std::uint16_t n = engine_.drain(out.data(), want);
            for (std::uint16_t i = 0; i < n; ++i) {
                ++frames_out_; // the frame's ordinal, for check_sent()
                check_sent(out[i]);
                rte_pktmbuf_free(out[i]);
            }
            if (n < want) {
                return;
            }
            max -= n;
        }
    }

    void step_hoard() {
        const std::uint8_t keep = r_.u8();
        if (keep == 0) {
            TRACE("step %zu hoard: %zu mbufs given back\n", current_step, hoard_.size());
            release_hoard();
            return;
        }
        // Raw objects, never used as mbufs: taken and put back in bulk.
        const unsigned free_now = rte_mempool_avail_count(pool());
        if (free_now > keep - 1u) {
            const std::size_t n = free_now - (keep - 1u);
            const std::size_t at = hoard_.size();
            hoard_.resize(at + n);
            if (rte_mempool_get_bulk(pool(), hoard_.data() + at, static_cast<unsigned>(n)) != 0) {
                hoard_.resize(at);
            }
        }
        TRACE("step %zu hoard: %zu mbufs held, %u free\n", current_step, hoard_.size(),
              rte_mempool_avail_count(pool()));
    }

    void release_hoard() noexcept {
        if (!hoard_.empty()) {
            rte_mempool_put_bulk(pool(), hoard_.data(), static_cast<unsigned>(hoard_.size()));
            hoard_.clear();
        }
    }

    // --- what the engine sends ---

    void check_sent(rte_mbuf* m) {
        const char* reason = "";
        ENGINE_CHECK(rte_mbuf_check(m, 1, &reason) == 0, "a frame to send is a broken mbuf: %s",
                     reason);
        const std::uint32_t len = m->pkt_len;
        ENGINE_CHECK(len <= out_bytes_.size(), "a frame of %u bytes", len);
        const void* p = rte_pktmbuf_read(m, 0, len, out_bytes_.data());
        ENGINE_CHECK(p != nullptr, "rte_pktmbuf_read failed on a frame of %u bytes", len);
        if (p != out_bytes_.data()) {
            std::memcpy(out_bytes_.data(), p, len);
        }
        const wire::MutBytes frame(out_bytes_.data(), len);
        auto eth = wire::parse_ethernet(frame);
        ENGINE_CHECK(eth.ok(), "a frame sent does not parse as Ethernet");
        ENGINE_CHECK(eth->src == our_mac && eth->vlan_count == 0, "a frame sent from another MAC");
        if (eth->ethertype == wire::ethertype::arp) {
            auto arp = wire::parse_arp(eth->payload);
            ENGINE_CHECK(arp.ok() && arp->sender_mac == our_mac && arp->sender_ip == our_ip &&
                             (arp->is_request() || arp->is_reply()),
                         "an ARP packet sent that is not ours");
            TRACE("  out: arp %s for %s\n", arp->is_request() ? "request" : "reply",
                  to_text(arp->target_ip).c_str());
            return;
        }
        ENGINE_CHECK(eth->ethertype == wire::ethertype::ipv4, "ethertype %04x sent",
                     eth->ethertype);
        if (ecfg().next_hop_mac) {
            ENGINE_CHECK(eth->dst == *ecfg().next_hop_mac,
                         "a frame not to the configured next hop");
        }
        complete_offloads(m, frame, eth->header_len());
        auto ip = wire::parse_ipv4(eth->payload, wire::ChecksumCheck::verify());
        ENGINE_CHECK(ip.ok(), "an IPv4 packet sent does not parse: %s",
                     wire::to_string(ip.error()));
        ENGINE_CHECK(ip->src() == our_ip && !ip->is_fragment() && ip->header_len() == 20,
                     "an IPv4 packet sent from another address, or fragmented");
        ENGINE_CHECK(ip->total_len() == eth->payload.size(), "IPv4 total length %u in %zu bytes",
                     ip->total_len(), eth->payload.size());
        if (ip->protocol() == wire::ip_proto::icmp) {
            auto icmp = wire::parse_icmpv4(ip->payload(), wire::ChecksumCheck::verify());
            ENGINE_CHECK(icmp.ok(), "an ICMP message sent does not verify");
            ENGINE_CHECK(icmp->type() == wire::icmp_type::echo_reply ||
                             icmp->type() == wire::icmp_type::dest_unreachable,
                         "ICMP type %u sent", icmp->type());
            TRACE("  out: icmp type %u to %s\n", icmp->type(), to_text(ip->dst()).c_str());
            return;
        }
        ENGINE_CHECK(ip->protocol() == wire::ip_proto::tcp, "IP protocol %u sent", ip->protocol());
        auto seg = wire::parse_tcp(ip->payload(), wire::ChecksumCheck::verify(ip->pseudo_sum()));
        ENGINE_CHECK(seg.ok(), "a TCP segment sent does not parse: %s",
                     wire::to_string(seg.error()));
        check_segment(*ip, *seg);
    }

    // Does what a NIC does with the checksums the engine left to it, so that
    // the frame can be verified as it would go on the wire.
    void complete_offloads(rte_mbuf* m, wire::MutBytes frame, std::size_t l2_len) {
        const std::uint64_t tx = m->ol_flags & (RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_L4_MASK);
        if (tx == 0) {
            return;
        }
        ENGINE_CHECK(((m->ol_flags & RTE_MBUF_F_TX_IP_CKSUM) == 0 || ecfg().tx_checksum.ipv4) &&
                         ((m->ol_flags & RTE_MBUF_F_TX_L4_MASK) == 0 || ecfg().tx_checksum.tcp),
                     "checksum offload asked of a port that has none");
        ENGINE_CHECK(m->l2_len == l2_len && m->l3_len >= 20 && l2_len + m->l3_len <= frame.size(),
                     "offload lengths l2 %u l3 %u in a frame of %zu bytes", m->l2_len, m->l3_len,
                     frame.size());
        std::uint8_t* ip = frame.data() + l2_len;
        if ((m->ol_flags & RTE_MBUF_F_TX_IP_CKSUM) != 0) {
            ENGINE_CHECK(wire::load_be16(ip + 10) == 0, "IP checksum field not 0 for the offload");
            wire::store_be16(ip + 10, wire::checksum({ip, m->l3_len}));
        }
        if ((m->ol_flags & RTE_MBUF_F_TX_L4_MASK) == RTE_MBUF_F_TX_TCP_CKSUM) {
            // DPDK's contract: the field holds the pseudo-header sum; the NIC
            // sums the segment over it and writes the complement.
            std::uint8_t* l4 = ip + m->l3_len;
            const std::size_t l4_len = frame.size() - l2_len - m->l3_len;
            ENGINE_CHECK(l4_len >= 20, "TCP offload on %zu bytes", l4_len);
            wire::Checksum sum;
            sum.add({l4, l4_len});
            wire::store_be16(l4 + 16, sum.finish());
        }
    }

    void check_segment(const wire::Ipv4Packet& ip, const wire::TcpSegment& seg) {
        const std::uint8_t flags = seg.flags();
        const bool syn = seg.has(flag::syn);
        const bool rst = seg.has(flag::rst);
        const bool ack = seg.has(flag::ack);
        const std::size_t payload = seg.payload().size();
        const wire::TcpOptions& o = seg.options();
        TRACE("  out: tcp :%u -> %s:%u %s seq=%u ack=%u win=%u len=%zu\n", seg.src_port(),
              to_text(ip.dst()).c_str(), seg.dst_port(), flags_text(flags).c_str(), seg.seq().raw(),
              seg.ack().raw(), seg.window(), payload);
        ENGINE_CHECK((flags & flag::urg) == 0, "URG sent");
        ENGINE_CHECK(!(syn && rst) && !(syn && seg.has(flag::fin)), "flags %s sent",
                     flags_text(flags).c_str());
        if (syn) {
            ENGINE_CHECK(o.mss == tcfg().mss, "a SYN without our MSS");
            if (!ack) {
                ENGINE_CHECK(o.window_scale.has_value() == tcfg().window_scaling &&
                                 o.sack_permitted == tcfg().sack &&
                                 o.timestamps.has_value() == tcfg().timestamps,
                             "a SYN whose options are not the configured ones");
                if (o.window_scale) {
                    ENGINE_CHECK(*o.window_scale == window_scale_for(tcfg().recv_buffer_bytes),
                                 "window scale %u offered for a %u-byte buffer", *o.window_scale,
                                 tcfg().recv_buffer_bytes);
                }
            } else {
                ENGINE_CHECK((!o.window_scale || tcfg().window_scaling) &&
                                 (!o.sack_permitted || tcfg().sack) &&
                                 (!o.timestamps || tcfg().timestamps),
                             "a SYN-ACK with an option that is turned off");
            }
        } else {
            ENGINE_CHECK(!o.mss && !o.window_scale && !o.sack_permitted,
                         "SYN-only options on a segment without SYN");
        }
        if (payload != 0) {
            ENGINE_CHECK(ack && !syn && !rst, "data sent with flags %s", flags_text(flags).c_str());
        }
        // RFC 9293 section 3.7.1: the TCP header and data together fit in
        // SendMSS + 20 (the MSS counts no option), and our MSS is our MTU - 40.
        ENGINE_CHECK(seg.header_len() + payload <= tcfg().mss + 20u || skipped("mtu"),
                     "a segment of %zu header and %zu data bytes with an MSS of %u",
                     seg.header_len(), payload, tcfg().mss);
        const tcp::FourTuple tuple = tuple_of(seg.src_port(), ip.dst(), seg.dst_port());
        Flow& f = flows_[flow_of_tuple(tuple)];
        if (f.renew_mark && frames_out_ > *f.renew_mark) {
            f.renew_mark.reset(); // the first frame of a connection opened since (a cookie's)
            f.ack_seen = false;
            f.edge_seen = false;
        }
        if (rst) {
            return; // its numbers may be the peer's (RFC 9293 section 3.10.7.1)
        }
        if (syn) {
            saw_syn(f, seg);
            return;
        }
        if (ack) {
            f.last_ack = seg.ack();
        }
        if (o.timestamps) {
            f.ts_val = o.timestamps->value;
        }
        if (!f.syn_seen || f.uncertain) {
            f.snd_max = f.syn_seen ? seq_max(f.snd_max, seg.seq() + seg.seg_len())
                                   : seg.seq() + seg.seg_len();
            return;
        }
        check_incarnation(f, seg);
    }

    void saw_syn(Flow& f, const wire::TcpSegment& seg) {
        const bool answer = seg.has(flag::ack);
        // A connection that has sent ACKs never sends a bare SYN again: one
        // after them, even with the same ISS (the ISN clock may not have
        // moved), begins another incarnation.
        bool fresh = !f.syn_seen || seg.seq() != f.iss || f.uncertain || (!answer && f.ack_seen);
        if (!answer) {
            if (f.pending_conn && frames_out_ > f.pending_mark && !cfg_.arp) {
                f.wire_conn = f.pending_conn;
                f.pending_conn.reset();
                fresh = true;
            } else if (fresh) {
                f.wire_conn.reset();
            }
            if (fresh) {
                f.shift = f.wire_conn ? conns_[*f.wire_conn].shift : std::nullopt;
                f.ack_seen = false;
                f.edge_seen = false;
            }
        } else {
            if (fresh) {
                f.wire_conn.reset();
            }
            // RFC 7323 section 2.2: a SYN-ACK carries the option when scaling
            // was agreed (and a shift of 0 may go without it).
            f.shift = seg.options().window_scale.value_or(0);
            f.ack_seen = true;
            f.ack_max = seg.ack();
            f.edge_seen = true;
            f.edge_max = seg.ack() + seg.window(); // never scaled on a SYN
            f.last_ack = seg.ack();
        }
        if (fresh) {
            f.snd_max = seg.seq() + 1;
        }
        f.syn_seen = true;
        f.iss = seg.seq();
        f.recent_iss[f.recent_count++ % f.recent_iss.size()] = seg.seq();
        // A SYN queued before the loss may be older than what was lost.
        if (frames_out_ > loss_mark_) {
            f.uncertain = false;
        }
        if (seg.options().timestamps) {
            f.ts_val = seg.options().timestamps->value;
        }
    }

    void check_incarnation(Flow& f, const wire::TcpSegment& seg) {
        const Seq32 seq = seg.seq();
        const std::size_t payload = seg.payload().size();
        std::uint64_t max_given = 0;
        for (const AppConn& c : conns_) {
            if (c.tuple == f.tuple) {
                max_given = std::max(max_given, c.given);
            }
        }
        // Nothing beyond SYN, the data handed over and FIN: SND.MAX <= ISS + 2 + given.
        std::uint32_t end = (seq + seg.seg_len()) - f.iss;
        if (end > max_given + 2) {
            // A SYN-ACK of a half-open incarnation that ended (a RST, a new
            // SYN) may leave the queue after the connection that replaced
            // it was set up, when drains come late: like a segment delayed
            // on the wire. The segment then belongs to an ISS seen before.
            for (std::size_t k = 0; k < std::min(f.recent_count, f.recent_iss.size()); ++k) {
                const Seq32 other = f.recent_iss[k];
                const auto end_other = static_cast<std::uint32_t>((seq + seg.seg_len()) - other);
                if (end_other <= max_given + 2) {
                    f.iss = other;
                    end = end_other;
                    break;
                }
            }
        }
        ENGINE_CHECK(end <= max_given + 2,
                     "segment seq=%u len=%u ends %u past ISS %u, with %" PRIu64
                     " bytes handed over",
                     seq.raw(), seg.seg_len(), end, f.iss.raw(), max_given);
        const std::uint32_t offset = seq - (f.iss + 1);
        if (payload != 0) {
            bool found = false;
            for (const AppConn& c : conns_) {
                if (c.tuple == f.tuple && offset + std::uint64_t{payload} <= c.given &&
                    carries(c, offset, seg.payload())) {
                    found = true;
                    break;
                }
            }
            ENGINE_CHECK(found,
                         "%zu data bytes at stream offset %u are not what the application "
                         "sent there",
                         payload, offset);
        }
        if (seg.has(flag::fin)) {
            const std::uint64_t fin_at = std::uint64_t{offset} + payload;
            bool found = false;
            for (const AppConn& c : conns_) {
                found = found || (c.tuple == f.tuple && c.write_shut && c.given == fin_at);
            }
            ENGINE_CHECK(found,
                         "FIN at stream offset %" PRIu64 ", not after all the data of a "
                         "connection the application shut down",
                         fin_at);
        }
        if (seg.has(flag::ack)) {
            // RCV.NXT never goes back.
            ENGINE_CHECK(!f.ack_seen || after_eq(seg.ack(), f.ack_max), "ACK %u after ACK %u",
                         seg.ack().raw(), f.ack_max.raw());
            f.ack_seen = true;
            f.ack_max = seg.ack();
            // RFC 9293 section 3.8.6.2.2: the right edge never moves left
            // (less than a unit of the scale: the field is rounded down).
            if (f.shift && !f.peer_ts_mismatch) {
                const Seq32 edge = seg.ack() + (std::uint32_t{seg.window()} << *f.shift);
                const std::uint32_t slack = (1u << *f.shift) - 1;
                ENGINE_CHECK(!f.edge_seen || after_eq(edge + slack, f.edge_max) ||
                                 skipped("window_edge"),
                             "window edge %u (ack %u, window %u << %u) left of %u", edge.raw(),
                             seg.ack().raw(), seg.window(), *f.shift, f.edge_max.raw());
                f.edge_max = f.edge_seen ? seq_max(f.edge_max, edge) : edge;
                f.edge_seen = true;
            }
        }
        f.snd_max = seq_max(f.snd_max, seq + seg.seg_len());
    }

    static bool carries(const AppConn& c, std::uint32_t offset, wire::Bytes data) noexcept {
        for (std::size_t k = 0; k < data.size(); ++k) {
            if (data[k] != app_byte(c.salt, std::uint64_t{offset} + k)) {
                return false;
            }
        }
        return true;
    }

    // --- after every step ---

    // A frame the engine meant to send may not have reached the drain: every
    // flow's incarnation is uncertain until its next SYN is seen.
    void note_losses() {
        const engine::EngineCounters& k = engine_.counters();
        const std::uint64_t lost = k.tx_queue_full + k.tcp.output_full +
                                   k.tcp.drops[tcp::DropReason::no_mbuf] +
                                   k.dropped(engine::FrameDrop::no_route) +
                                   k.neighbors.pending_dropped + k.neighbors.cache_full;
        if (lost != lost_) {
            lost_ = lost;
            // The frames drained up to this ordinal were queued before the
            // loss was seen.
            loss_mark_ = frames_out_ + engine_.tx_pending();
            for (Flow& f : flows_) {
                f.uncertain = true;
            }
        }
    }

    void after_step() {
        note_losses();
        read_events();
        check_invariants();
    }

    void read_events() {
        std::array<engine::Event, 64> evs{};
        for (;;) {
            const std::size_t n = engine_.events(evs.data(), evs.size());
            for (std::size_t i = 0; i < n; ++i) {
                on_event(evs[i]);
            }
            if (n < evs.size()) {
                return;
            }
        }
    }

    void on_event(const engine::Event& ev) {
        TRACE("  event %s on %u.%u%s%s\n", tcp::to_string(ev.kind), ev.conn.index,
              ev.conn.generation, ev.kind == tcp::ConnEvent::closed ? ", " : "",
              ev.kind == tcp::ConnEvent::closed ? tcp::to_string(ev.reason) : "");
        AppConn& c = learn_conn(ev.conn, false);
        ENGINE_CHECK(!c.closed_event || skipped("closed_twice"), "event %s after closed",
                     tcp::to_string(ev.kind));
        ENGINE_CHECK(!c.app_closed, "event %s after close()", tcp::to_string(ev.kind));
        switch (ev.kind) {
        case tcp::ConnEvent::connected: {
            ENGINE_CHECK(!c.connected_event, "connected twice");
            c.connected_event = true;
            // A connection opened from a SYN cookie begins an incarnation
            // with no SYN-ACK of its own on the wire (the ACK of an old one
            // sufficed, RFC 4987 section 3.6): what the flow's previous
            // incarnation acknowledged says nothing of this one, from the
            // first frame queued in the step that opened it on (older ones
            // may still wait in the queue).
            flows_[flow_of_tuple(c.tuple)].renew_mark = step_mark_;
            break;
        }
        case tcp::ConnEvent::closed:
            c.closed_event = true;
            ENGINE_CHECK(!engine_.state(c.id), "closed, and the connection is still there");
            break;
        case tcp::ConnEvent::readable:
        case tcp::ConnEvent::writable:
        case tcp::ConnEvent::peer_closed: break;
        }
    }

    void check_invariants() {
        const engine::EngineCounters& k = engine_.counters();
        const std::size_t conns = engine_.connections();
        const std::size_t tw = engine_.time_wait_records();
        ENGINE_CHECK(k.connections_opened - k.connections_closed == conns,
                     "opened %" PRIu64 " - closed %" PRIu64 " != %zu connections",
                     k.connections_opened, k.connections_closed, conns);
        ENGINE_CHECK(conns <= ecfg().max_connections && tw <= ecfg().time_wait_records,
                     "%zu connections, %zu TIME-WAIT records", conns, tw);
        std::uint64_t by_state = 0;
        for (const std::uint64_t n : k.connections_by_state) {
            by_state += n;
        }
        ENGINE_CHECK(by_state == conns + tw, "%" PRIu64 " connections by state, %zu + %zu held",
                     by_state, conns, tw);
        ENGINE_CHECK(k.connections_by_state[static_cast<std::size_t>(TcpState::closed)] == 0 &&
                         k.connections_by_state[static_cast<std::size_t>(TcpState::listen)] == 0,
                     "a connection left CLOSED or LISTEN");
        ENGINE_CHECK(k.connections_by_state[static_cast<std::size_t>(TcpState::time_wait)] >= tw,
                     "fewer in TIME-WAIT than TIME-WAIT records");
        ENGINE_CHECK(k.frames_in == frames_in_ && k.frames_out == frames_out_,
                     "frames in %" PRIu64 " (given %" PRIu64 "), out %" PRIu64 " (drained %" PRIu64
                     ")",
                     k.frames_in, frames_in_, k.frames_out, frames_out_);
        std::uint64_t wire_errors = 0;
        for (const std::uint64_t n : k.wire_errors) {
            wire_errors += n;
        }
        ENGINE_CHECK(wire_errors == k.dropped(engine::FrameDrop::malformed),
                     "%" PRIu64 " wire errors, %" PRIu64 " malformed frames", wire_errors,
                     k.dropped(engine::FrameDrop::malformed));
        ENGINE_CHECK(k.events_lost == 0 && k.tcp.events_lost == 0, "events lost");
        ENGINE_CHECK((engine_.timers() == 0) == !engine_.next_wakeup().has_value(),
                     "%zu timers, next wakeup %s", engine_.timers(),
                     engine_.next_wakeup() ? "set" : "unset");
        ENGINE_CHECK(engine_.tx_pending() <= ecfg().tx_queue, "%zu frames queued, limit %u",
                     engine_.tx_pending(), ecfg().tx_queue);
        // Mbufs: the queued frames are some of what the engine holds; when it
        // holds nothing else, it holds nothing. (With ARP, packets wait for
        // their next hop where the API cannot see them.)
        const unsigned in_use = rte_mempool_in_use_count(pool());
        const std::size_t ours = hoard_.size() + held_mbufs_;
        ENGINE_CHECK(in_use >= ours + engine_.tx_pending(),
                     "%u mbufs in use, %zu held here, %zu queued", in_use, ours,
                     engine_.tx_pending());
        if (conns == 0 && engine_.tx_pending() == 0 && !cfg_.arp) {
            ENGINE_CHECK(in_use == ours,
                         "the engine holds no connection and no frame, yet %zu mbufs",
                         in_use - ours);
        }
        for (AppConn& c : conns_) {
            check_conn(c);
        }
    }

    void check_conn(AppConn& c) {
        if (c.gone || c.app_closed) {
            return;
        }
        const auto st = engine_.state(c.id);
        if (!st) {
            c.gone = true;
            ENGINE_CHECK(engine_.readable(c.id) == 0 && engine_.writable(c.id) == 0 &&
                             engine_.peek(c.id, peek_.data(), 1) == 0 && !engine_.tuple(c.id),
                         "a stale id still answers");
            return;
        }
        ENGINE_CHECK(*st != TcpState::closed && *st != TcpState::listen, "a connection in %s",
                     tcp::to_string(*st));
        ENGINE_CHECK(engine_.tuple(c.id) == c.tuple, "a connection changed its 4-tuple");
        ENGINE_CHECK(engine_.writable(c.id) <= tcfg().send_buffer_bytes, "%u writable of %u",
                     engine_.writable(c.id), tcfg().send_buffer_bytes);
        ENGINE_CHECK(engine_.readable(c.id) <= tcfg().recv_buffer_bytes, "%u readable of %u",
                     engine_.readable(c.id), tcfg().recv_buffer_bytes);
    }

    // --- the end ---

    void finish() {
        // The application takes what is waiting, aborts everything it may
        // still touch, and gives the hoard back; then time runs on, the peers
        // silent, until no timer is left.
        for (const std::uint16_t port : std::vector<std::uint16_t>(listening_)) {
            while (engine_.accept(port)) {
            }
        }
        read_events();
        for (AppConn& c : conns_) {
            if (!c.app_closed && engine_.state(c.id)) {
                engine_.abort(c.id);
            }
        }
        release_hoard();
        after_step();
        const Instant start = now_;
        const Instant limit = now_ + Duration::from_s(86400);
        for (;;) {
            drain(SIZE_MAX);
            if (engine_.timers() == 0) {
                break;
            }
            const Instant next = engine_.next_wakeup().value_or(now_);
            if (next > limit && skipped("settle")) {
                TRACE("timers still run a day after the end: not checked (SYNACK_FUZZ_SKIP)\n");
                return; // the engine's destructor frees what it holds
            }
            ENGINE_CHECK(next <= limit,
                         "a day after the end, %zu timers still run: %zu connections, %zu TIME-WAIT"
                         " records",
                         engine_.timers(), engine_.connections(), engine_.time_wait_records());
            now_ = std::max(now_ + Duration::from_ms(1), next);
            engine_.poll(now_);
            after_step();
        }
        drain(SIZE_MAX);
        after_step();
        TRACE("finished %" PRIu64 " ms after the last step\n", (now_ - start).ms());
        if (engine_.connections() != 0 && skipped("stuck")) {
            TRACE("connections without a timer: not checked (SYNACK_FUZZ_SKIP)\n");
            return;
        }
        ENGINE_CHECK(engine_.connections() == 0 && engine_.time_wait_records() == 0 &&
                         engine_.timers() == 0 && engine_.tx_pending() == 0,
                     "at the end: %zu connections, %zu TIME-WAIT records, %zu timers, %zu frames",
                     engine_.connections(), engine_.time_wait_records(), engine_.timers(),
                     engine_.tx_pending());
        const engine::EngineCounters& k = engine_.counters();
        ENGINE_CHECK(k.connections_opened == k.connections_closed,
                     "opened %" PRIu64 ", closed %" PRIu64, k.connections_opened,
                     k.connections_closed);
        ENGINE_CHECK(rte_mempool_in_use_count(pool()) == 0, "at the end the engine holds %u mbufs",
                     rte_mempool_in_use_count(pool()));
    }

    FuzzConfig cfg_;
    Reader& r_;
    Instant now_ = Instant::from_us(1'000'000'000'000);
    Engine engine_;
    std::vector<Flow> flows_;
    std::vector<std::size_t> active_flows_;
    std::vector<AppConn> conns_;
    std::vector<std::uint16_t> listening_;
    std::vector<BurstFrame> burst_;
    std::vector<void*> hoard_;   // mbufs taken from the pool to starve the engine
    std::size_t held_mbufs_ = 0; // in frames of the burst not yet input
    std::uint64_t frames_in_ = 0;
    std::uint64_t frames_out_ = 0;
    std::uint64_t lost_ = 0;
    std::uint64_t loss_mark_ = 0; // frames_out_ of the last frame queued when a loss was seen
    std::uint64_t step_mark_ = 0; // frames_out_ + the queue, as the current step began
    bool read_checks_ = true;
    std::array<wire::Bytes, 256> peek_{};
    // A frame the engine sent, copied out (one buffer for all inputs: no
    // 64 KiB to clear per input).
    static inline std::array<std::uint8_t, 65536> out_bytes_{};
};

} // namespace

namespace {
// Set by libFuzzer's initialisation, which the replay driver does not call.
bool under_libfuzzer = false;
} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    under_libfuzzer = true;
    (void)pool();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    rte_mempool* p = pool();
    current_step = 0;
    current_op = "setup";
    ENGINE_CHECK(rte_mempool_in_use_count(p) == 0, "%u mbufs in use before the input",
                 rte_mempool_in_use_count(p));
    Reader r(data, size);
    const FuzzConfig config = decode_config(r);
    {
        Harness h(config, r);
        h.run();
    }
    static std::uint64_t inputs = 0;
    check_pool_whole(inputs++ % 64 == 0 || !under_libfuzzer);
    return 0;
}

std::vector<synack::fuzz::Input> fuzz_seeds_from_frame(synack::fuzz::Bytes frame) {
    // The default configuration, then the frame as a raw step, pointed at us
    // with its checksums made right.
    const std::size_t len = std::min<std::size_t>(frame.size(), 1600);
    synack::fuzz::Input in = {0,
                              0,
                              0,
                              static_cast<std::uint8_t>(Op::raw),
                              0x03,
                              static_cast<std::uint8_t>(len >> 8),
                              static_cast<std::uint8_t>(len)};
    in.insert(in.end(), frame.begin(), frame.begin() + static_cast<std::ptrdiff_t>(len));
    return {in};
}
