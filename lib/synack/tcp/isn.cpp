#include <synack/tcp/isn.hpp>

namespace synack::tcp {

wire::Seq32 IsnGenerator::isn(const FourTuple& t, time::Instant now) const noexcept {
    const auto f = static_cast<std::uint32_t>(siphash24(key_, t.key_bytes()));
    // M: "the 4 microsecond timer", wrapping every ~4.77 hours.
    const auto m = static_cast<std::uint32_t>(now.us() / 4);
    return wire::Seq32(m + f);
}

} // namespace synack::tcp
