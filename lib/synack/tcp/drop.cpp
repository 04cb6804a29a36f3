#include <synack/tcp/drop.hpp>

namespace synack::tcp {

const char* to_string(DropReason r) noexcept {
    switch (r) {
    case DropReason::no_connection: return "no_connection";
    case DropReason::listen_not_syn: return "listen_not_syn";
    case DropReason::syn_sent_bad_ack: return "syn_sent_bad_ack";
    case DropReason::syn_sent_no_syn: return "syn_sent_no_syn";
    case DropReason::out_of_window: return "out_of_window";
    case DropReason::paws: return "paws";
    case DropReason::rst_not_exact: return "rst_not_exact";
    case DropReason::syn_in_window: return "syn_in_window";
    case DropReason::rst_in_time_wait: return "rst_in_time_wait";
    case DropReason::data_after_close: return "data_after_close";
    case DropReason::no_ack: return "no_ack";
    case DropReason::bad_ack: return "bad_ack";
    case DropReason::ooo_no_room: return "ooo_no_room";
    case DropReason::recv_buffer_full: return "recv_buffer_full";
    case DropReason::no_mbuf: return "no_mbuf";
    case DropReason::listen_syn_fin: return "listen_syn_fin";
    case DropReason::rx_pressure: return "rx_pressure";
    }
    return "unknown";
}

} // namespace synack::tcp
