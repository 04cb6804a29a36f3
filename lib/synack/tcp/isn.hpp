#pragma once
// Initial sequence numbers, RFC 6528 section 3:
//   ISN = M + F(localip, localport, remoteip, remoteport, secretkey)
// "where M is the 4 microsecond timer" and F a keyed hash an attacker cannot
// compute. Successive connections of one 4-tuple get increasing ISNs (so old
// duplicates fall outside the new window, RFC 9293 section 3.4.1), while
// another tuple's ISNs reveal nothing.

#include <synack/base/siphash.hpp>
#include <synack/tcp/four_tuple.hpp>
#include <synack/time/clock.hpp>
#include <synack/wire/seq.hpp>

#include <cstdint>

namespace synack::tcp {

/// Generates RFC 6528 ISNs with a per-engine secret.
class IsnGenerator {
public:
    /// key: the secret; draw it from a good random source at start (RFC 6528
    /// section 3: "SHOULD be of at least 128 bits ... generated randomly").
    explicit IsnGenerator(SipKey key) noexcept : key_(key) {}

    /// The ISN for a connection of this tuple started at `now`.
    wire::Seq32 isn(const FourTuple& t, time::Instant now) const noexcept;

private:
    SipKey key_;
};

} // namespace synack::tcp
