#pragma once
// A TCP endpoint spoken by hand, on one of the adversary's hosts: enough of
// RFC 9293 to open (either way), carry a byte stream each way and close, with
// each choice an adversarial test wants to bend left open: segment sizes,
// bytes sent out of order, the window it offers, silence, forged fields.
//
// It is deliberately simple: go-back-N retransmission on a timer of its own
// (doubling, RFC 6298 section 5.5) restarting from one segment in flight
// (slow start, RFC 5681 section 3.1, with no initial limit: the first flight
// is what the scenario allows), in-order delivery only (what arrives past
// RCV.NXT is dropped and answered with an ACK, RFC 9293 section 3.10.7.4),
// no SACK. Its receive buffer never shrinks the window: the right edge it
// offered stays put (RFC 9293 section 3.8.6.2.2). It keeps no TIME-WAIT.

#include "sim/adversary.hpp"
#include "sim/app.hpp"

#include <optional>

namespace synack::sim {

struct RawTcpConfig {
    Host host;              // the adversary's host it runs on
    std::uint16_t port = 0; // ours
    bool peer_is_a = true;  // the engine at the other end
    wire::Ipv4Addr peer_ip;
    wire::MacAddr peer_mac;
    std::uint16_t peer_port = 0; // 0 while listening: any, the SYN's
    wire::Seq32 iss;
    std::uint16_t mss = 1460;
    std::optional<std::uint8_t> wscale = 7; // offered in the SYN
    bool timestamps = false;                // offered in the SYN (RFC 7323)
    /// The receive buffer: the window offered while nothing is held.
    std::uint32_t recv_buffer_bytes = 1 << 20;
    /// Whether received bytes are read at once (the window stays open) or
    /// held (it closes as they arrive).
    bool reads = true;
    /// What we send: send_bytes of stream_byte(send_key, ...), then a FIN
    /// when `fin` (once all is sent).
    std::uint64_t send_key = 0;
    std::uint64_t send_bytes = 0;
    std::uint32_t segment_bytes = 1460;          // the largest segment we send
    std::uint32_t max_flight_bytes = UINT32_MAX; // sent and not acknowledged, at most
    bool fin = true;
    /// The stream expected from the peer (checked byte by byte).
    std::uint64_t recv_key = 0;
    time::Duration rto = time::Duration::from_s(1); // our first retransmission timeout
};

class RawTcp {
public:
    enum class State : std::uint8_t { listen, syn_sent, syn_received, established, reset };

    RawTcp(Adversary& x, const RawTcpConfig& config) noexcept : x_(x), c_(config) {}

    /// Sends our SYN (an active open); otherwise we wait in LISTEN.
    void connect(World& w);
    /// A segment for our tuple (callers filter on it with `ours`).
    void receive(World& w, const Segment& s);
    bool ours(const Segment& s) const noexcept {
        return s.dst == c_.host.ip && s.tcp.dst_port == c_.port && s.src == c_.peer_ip &&
               (s.tcp.src_port == c_.peer_port || c_.peer_port == 0);
    }
    /// The streams' keys, once the peer's port is known (a passive open).
    void set_keys(std::uint64_t send_key, std::uint64_t recv_key) noexcept {
        c_.send_key = send_key;
        c_.recv_key = recv_key;
    }
    /// The retransmission timer, if armed, and its expiry.
    std::optional<time::Instant> wakeup() const noexcept { return rtx_at_; }
    void on_timer(World& w);
    /// Sends what the window allows of what is not sent yet.
    void push(World& w);

    /// Sends bytes [offset, offset + len) of our stream now, out of turn (a
    /// segment ahead of SND.NXT arrives out of order), with the usual fields.
    void send_data(World& w, std::uint64_t offset, std::uint32_t len);
    /// Sends a segment with the usual addresses, window and timestamps but
    /// the caller's flags, sequence and acknowledgment numbers (a forged
    /// ACK, garbage data).
    void send_raw(World& w, std::uint8_t flags, wire::Seq32 seq, wire::Seq32 ack,
                  wire::Bytes payload = {});
    /// A bare ACK: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>.
    void send_ack(World& w);
    /// From now on nothing is sent and nothing is answered (the host still
    /// answers ARP): a peer that went silent.
    void go_silent() noexcept {
        silent_ = true;
        rtx_at_.reset();
    }
    /// Starts or stops reading (the window follows).
    void set_reads(bool reads) noexcept { c_.reads = reads; }
    /// Sends a share of the pushes in a random order drawn from rng.
    void set_shuffle(Rng* rng, double share) noexcept {
        shuffle_ = rng;
        shuffle_share_ = share;
    }
    /// Sends our FIN once all is sent (when the configuration held it back).
    void close(World& w) {
        c_.fin = true;
        push(w);
    }

    State state() const noexcept { return state_; }
    bool established() const noexcept { return state_ == State::established; }
    /// The connection reached ESTABLISHED at some point (a later RST ends it).
    bool opened() const noexcept { return opened_; }
    /// Our data and FIN all acknowledged.
    bool done_sending() const noexcept;
    bool peer_fin() const noexcept { return peer_fin_; }
    const StreamTally& received() const noexcept { return received_; }
    /// Stream bytes the peer acknowledged.
    std::uint64_t acked() const noexcept;
    std::uint64_t held_bytes() const noexcept { return held_; }
    wire::Seq32 rcv_nxt() const noexcept { return rcv_nxt_; }
    wire::Seq32 snd_una() const noexcept { return snd_una_; }
    wire::Seq32 snd_max() const noexcept { return snd_max_; }
    /// ACKs from the peer for sequence numbers we never sent (a bug in it).
    std::uint64_t acks_of_unsent() const noexcept { return acks_of_unsent_; }
    /// The window the peer last offered, in bytes.
    std::uint32_t peer_window() const noexcept { return snd_wnd_; }
    const RawTcpConfig& config() const noexcept { return c_; }

private:
    Segment header(std::uint8_t flags, wire::Seq32 seq) const;
    /// Our SYN, or SYN-ACK in SYN-RECEIVED, with our options.
    void send_syn(World& w);
    void emit(World& w, Segment s, wire::Bytes payload);
    void take_syn_options(const Segment& s);
    void take_ack(World& w, const Segment& s);
    void take_data(World& w, const Segment& s);
    std::uint16_t window_field() const noexcept;
    wire::Seq32 data_end() const noexcept {
        return c_.iss + 1 + static_cast<std::uint32_t>(c_.send_bytes);
    }
    void arm(World& w) { rtx_at_ = w.now + rto_; }

    Adversary& x_;
    RawTcpConfig c_;
    State state_ = State::listen;
    bool opened_ = false;
    bool silent_ = false;
    Rng* shuffle_ = nullptr;
    double shuffle_share_ = 0;
    // Send side: SND.UNA, SND.NXT and the highest ever sent.
    wire::Seq32 snd_una_;
    wire::Seq32 snd_nxt_;
    wire::Seq32 snd_max_;
    std::uint32_t snd_wnd_ = 0;
    std::uint32_t cwnd_ = UINT32_MAX; // from the first timeout on: slow start
    bool wscale_ok_ = false;          // both SYNs carried the option
    std::uint8_t snd_wscale_ = 0;     // applied to the peer's windows
    std::uint8_t rcv_wscale_ = 0;     // applied to ours
    bool fin_sent_ = false;
    time::Duration rto_;
    std::optional<time::Instant> rtx_at_;
    // Receive side.
    wire::Seq32 irs_;
    wire::Seq32 rcv_nxt_;
    wire::Seq32 rcv_edge_;   // the right edge offered: never moved left
    std::uint64_t held_ = 0; // received, not read
    bool peer_fin_ = false;
    bool ts_ok_ = false;
    std::uint32_t ts_recent_ = 0;
    StreamTally received_;
    std::uint64_t acks_of_unsent_ = 0;
};

} // namespace synack::sim
