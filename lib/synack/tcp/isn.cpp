#include <synack/tcp/isn.hpp>

#include <algorithm>
#include <array>

namespace synack::tcp {

wire::Seq32 IsnGenerator::isn(const FourTuple& t, time::Instant now) const noexcept {
    std::array<std::uint8_t, 36> in{};
    std::copy(t.local_addr.bytes.begin(), t.local_addr.bytes.end(), in.begin());
    std::copy(t.remote_addr.bytes.begin(), t.remote_addr.bytes.end(), in.begin() + 16);
    wire::store_be16(in.data() + 32, t.local_port);
    wire::store_be16(in.data() + 34, t.remote_port);
    const auto f = static_cast<std::uint32_t>(siphash24(key_, in));
    // M: "the 4 microsecond timer", wrapping every ~4.77 hours.
    const auto m = static_cast<std::uint32_t>(now.us() / 4);
    return wire::Seq32(m + f);
}

} // namespace synack::tcp
