#include <synack/engine/flow_table.hpp>

#include <algorithm>

namespace synack::engine {

std::size_t hash_tuple(const SipKey& key, const tcp::FourTuple& t) noexcept {
    std::array<std::uint8_t, 36> in{};
    std::copy(t.local_addr.bytes.begin(), t.local_addr.bytes.end(), in.begin());
    std::copy(t.remote_addr.bytes.begin(), t.remote_addr.bytes.end(), in.begin() + 16);
    wire::store_be16(in.data() + 32, t.local_port);
    wire::store_be16(in.data() + 34, t.remote_port);
    return static_cast<std::size_t>(siphash24(key, in));
}

} // namespace synack::engine
