#pragma once
// SHA-256 (FIPS 180-4), for the sink to report the hash of each stream it
// received, so a sender can compare it with the hash of what it sent (the
// same check the interop tests make of synack's source stream on Linux).
// Plain and portable: a checking tool, not a data path.

#include <array>
#include <cstdint>
#include <span>
#include <string>

namespace synack::bench {

class Sha256 {
public:
    Sha256() noexcept;
    void update(std::span<const std::uint8_t> data) noexcept;
    /// The digest of everything given to update(); the object is spent after.
    std::array<std::uint8_t, 32> finish() noexcept;
    /// finish() as 64 lowercase hex digits.
    std::string hex() noexcept;

private:
    void block(const std::uint8_t* p) noexcept;

    std::array<std::uint32_t, 8> h_;
    std::array<std::uint8_t, 64> buffer_{};
    std::size_t buffered_ = 0;
    std::uint64_t length_ = 0; // bytes
};

} // namespace synack::bench
