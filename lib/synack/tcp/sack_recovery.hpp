#pragma once
// SACK-based loss recovery (RFC 6675): during fast recovery the sender keeps
// the scoreboard of what the peer holds, estimates the data in the network
// (pipe), and fills every hole it deems lost within one round trip, where
// NewReno alone repairs one hole per round trip.
//
// The congestion controller still decides the windows (entry, ssthresh, exit);
// this file decides what to send. Recovery uses cwnd = ssthresh (RFC 6675
// section 5, step 4.2), whatever inflation the controller applies.

#include <synack/tcp/env.hpp>
#include <synack/tcp/tcb.hpp>

#include <cstdint>

namespace synack::tcp {

/// DupThresh of RFC 6675 section 2, as RFC 5681 fixes it.
inline constexpr std::uint32_t dup_thresh = 3;

/// RFC 6675 section 4, IsLost(seq): DupThresh discontiguous SACKed ranges,
/// or more than (DupThresh - 1) * SMSS SACKed bytes, lie above seq.
bool sack_is_lost(const Tcb& tcb, wire::Seq32 seq) noexcept;

/// RFC 6675 section 4, SetPipe(): the bytes thought to be in the network.
/// Every unSACKed byte from SND.UNA to SND.MAX counts once unless it is
/// deemed lost, and once more if it was retransmitted in this recovery.
std::uint32_t sack_pipe(const Tcb& tcb) noexcept;

/// The third duplicate ACK began fast recovery on a SACK connection: the
/// recovery point is the highest sequence number sent (RFC 6675 section 5,
/// step 4.1). The caller retransmits the first segment, as for NewReno.
void enter_sack_recovery(Tcb& tcb, wire::Seq32 retransmitted_end) noexcept;

/// Sends what NextSeg() picks while cwnd - pipe allows a segment (RFC 6675
/// section 5, step C): the holes deemed lost above HighRxt (rule 1) and,
/// when no new data waits, the other holes below the highest SACK (rule 3).
/// New data (rule 2) is output()'s to send: the return value is the room
/// left for it, in bytes.
std::uint32_t sack_recovery_retransmit(Tcb& tcb, bool new_data_waiting, TcpEnv& env) noexcept;

} // namespace synack::tcp
