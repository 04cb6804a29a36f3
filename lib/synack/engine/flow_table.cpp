#include <synack/engine/flow_table.hpp>

namespace synack::engine {

std::size_t hash_tuple(const SipKey& key, const tcp::FourTuple& t) noexcept {
    return static_cast<std::size_t>(siphash24(key, t.key_bytes()));
}

} // namespace synack::engine
