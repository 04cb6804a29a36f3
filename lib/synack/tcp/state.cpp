#include <synack/tcp/state.hpp>

namespace synack::tcp {

const char* to_string(TcpState s) noexcept {
    switch (s) {
    case TcpState::closed: return "CLOSED";
    case TcpState::listen: return "LISTEN";
    case TcpState::syn_sent: return "SYN-SENT";
    case TcpState::syn_received: return "SYN-RECEIVED";
    case TcpState::established: return "ESTABLISHED";
    case TcpState::fin_wait_1: return "FIN-WAIT-1";
    case TcpState::fin_wait_2: return "FIN-WAIT-2";
    case TcpState::close_wait: return "CLOSE-WAIT";
    case TcpState::closing: return "CLOSING";
    case TcpState::last_ack: return "LAST-ACK";
    case TcpState::time_wait: return "TIME-WAIT";
    }
    return "?";
}

} // namespace synack::tcp
