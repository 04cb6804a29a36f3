#pragma once
// Connection states of RFC 9293 section 3.3.2, with the RFC's names.

#include <cstdint>

namespace synack::tcp {

/// The eleven states of RFC 9293 section 3.3.2. Switches over it have no
/// default, so the compiler names any state a new switch forgets.
enum class TcpState : std::uint8_t {
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

inline constexpr std::size_t tcp_state_count = 11;

/// The RFC's upper-case name ("SYN-RECEIVED"), for logs and counter names.
const char* to_string(TcpState s) noexcept;

/// RFC 9293 section 3.10.7.4: the synchronized states, in which the
/// connection has seen the peer's SYN and its own SYN was acknowledged or
/// will be by the segment at hand.
constexpr bool is_synchronized(TcpState s) noexcept {
    switch (s) {
    case TcpState::closed:
    case TcpState::listen:
    case TcpState::syn_sent:
    case TcpState::syn_received: return false;
    case TcpState::established:
    case TcpState::fin_wait_1:
    case TcpState::fin_wait_2:
    case TcpState::close_wait:
    case TcpState::closing:
    case TcpState::last_ack:
    case TcpState::time_wait: return true;
    }
    return false;
}

} // namespace synack::tcp
