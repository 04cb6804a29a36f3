#pragma once
// Why the TCP layer discarded a segment. Each reason has a counter (STYLE.md:
// "Every discard has a DropReason with its own counter and a doc line").

#include <array>
#include <cstdint>

namespace synack::tcp {

enum class DropReason : std::uint8_t {
    /// No connection and no listener: answered with RST (RFC 9293 3.10.7.1).
    no_connection,
    /// LISTEN got a segment that is neither SYN nor RST (RFC 9293 3.10.7.2).
    listen_not_syn,
    /// SYN-SENT: ACK outside ISS < SEG.ACK =< SND.NXT (RFC 9293 3.10.7.3).
    syn_sent_bad_ack,
    /// SYN-SENT: neither SYN nor RST (RFC 9293 3.10.7.3, fifth).
    syn_sent_no_syn,
    /// Sequence number outside the receive window: ACKed and dropped
    /// (RFC 9293 3.10.7.4, first).
    out_of_window,
    /// Timestamp older than TS.Recent: PAWS (RFC 7323 section 5.3).
    paws,
    /// RST whose sequence number is not RCV.NXT: challenge ACK or silence
    /// (RFC 5961 section 3.2).
    rst_not_exact,
    /// SYN in a synchronized state: challenge ACK (RFC 5961 section 4.2).
    syn_in_window,
    /// RST in TIME-WAIT: ignored (RFC 1337 section 3).
    rst_in_time_wait,
    /// Data for a connection the application closed: reset (RFC 1122 section 4.2.2.13).
    data_after_close,
    /// Segment without ACK in a synchronized state (RFC 9293 3.10.7.4, fifth).
    no_ack,
    /// ACK for data never sent, or older than the window allows (RFC 5961 section 5.2).
    bad_ack,
    /// Out-of-order segment with no room left to hold it.
    ooo_no_room,
    /// Data beyond what the receive buffer can hold.
    recv_buffer_full,
    /// No mbuf for the reply.
    no_mbuf,
    /// LISTEN got SYN and FIN together: a scan, not an opening. Dropped
    /// without an answer, as Linux and the BSDs do.
    listen_syn_fin,
    /// Received data not held because the engine's mbuf pool is low
    /// (RxPressure): out-of-order data, or in-order data that needed an mbuf
    /// beyond the connection's floor. Not ACKed; the peer sends it again.
    rx_pressure,
};

inline constexpr std::size_t drop_reason_count = static_cast<std::size_t>(DropReason::rx_pressure) + 1;

/// Stable lower-case name, for counter names.
const char* to_string(DropReason r) noexcept;

/// One counter per DropReason.
struct DropCounters {
    std::array<std::uint64_t, drop_reason_count> count{};

    void add(DropReason r) noexcept { ++count[static_cast<std::size_t>(r)]; }
    std::uint64_t operator[](DropReason r) const noexcept {
        return count[static_cast<std::size_t>(r)];
    }
};

} // namespace synack::tcp
