#pragma once
// What a user may tune per engine (and some of it per connection). Every
// resource has a limit; defaults follow Linux where the RFCs leave a choice,
// so that synack and the kernel behave alike in a mixed deployment.

#include <synack/time/clock.hpp>

#include <cstdint>

namespace synack::tcp {

struct KeepaliveConfig {
    bool enabled = false;                                // RFC 9293 section 3.8.4: off by default
    time::Duration idle = time::Duration::from_s(7200);  // "MUST default to no less than two hours"
    time::Duration interval = time::Duration::from_s(75);
    std::uint8_t probes = 9;
};

struct TcpConfig {
    /// Our MSS for the options we send (RFC 9293 section 3.7.1); the MTU less
    /// 40 bytes of IPv4 and TCP headers by default.
    std::uint16_t mss = 1460;
    /// Send MSS when the peer sends no MSS option: RFC 9293 section 3.7.1,
    /// MUST-15, "536 bytes for IPv4".
    std::uint16_t default_peer_mss = 536;
    std::uint32_t send_buffer_bytes = 256 * 1024;
    std::uint32_t recv_buffer_bytes = 256 * 1024;
    /// Window scale we offer (RFC 7323 section 2.3); chosen so the receive
    /// buffer fits, at most 14.
    bool window_scaling = true;
    bool timestamps = true;      // RFC 7323
    bool sack = true;            // RFC 2018
    bool nagle = true;           // RFC 9293 section 3.7.4, per connection too
    /// Delayed ACK: at most this long (RFC 9293 section 3.8.6.3: "MUST be
    /// less than 0.5 seconds"), and at least every second full segment.
    time::Duration delayed_ack = time::Duration::from_ms(40);
    /// Maximum segment lifetime; TIME-WAIT lasts 2 * msl (RFC 9293 section 3.4.2).
    time::Duration msl = time::Duration::from_s(30);
    time::Duration fin_wait_2_timeout = time::Duration::from_s(60);
    /// SYN and SYN-ACK retransmissions before giving up (Linux: 6 and 5).
    std::uint8_t syn_retries = 6;
    std::uint8_t synack_retries = 5;
    /// Data retransmissions before the connection is aborted (Linux's tcp_retries2).
    std::uint8_t data_retries = 15;
    time::Duration rto_initial = time::Duration::from_s(1);
    time::Duration rto_min = time::Duration::from_ms(200);
    time::Duration rto_max = time::Duration::from_s(120);
    /// Per connection, at most one ACK per interval in answer to segments
    /// that carry no data and are unacceptable (out of window, PAWS) or call
    /// for a challenge ACK (RFC 5961 section 7): two ends cannot ping-pong
    /// ACKs, and an attacker cannot make us flood. Linux's tcp_invalid_ratelimit.
    time::Duration invalid_ack_interval = time::Duration::from_ms(500);
    /// Out-of-order data held per connection (bytes and segments).
    std::uint32_t ooo_max_bytes = 256 * 1024;
    std::uint16_t ooo_max_segments = 256;
    KeepaliveConfig keepalive;
};

} // namespace synack::tcp
