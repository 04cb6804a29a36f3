#pragma once
// Which backend a new client connection goes to: round robin, or Maglev
// consistent hashing (Eisenbud et al., NSDI 2016, section 3.4) of the
// client's address and port, so that a backend going down or coming back
// moves few clients. Backends marked down are left out until their time is up.

#include "options.hpp"

#include <synack/time/clock.hpp>

#include <cstdint>
#include <optional>
#include <vector>

namespace synack::lb {

class Picker {
public:
    /// Maglev's table size: a prime well above the backends' count (the
    /// paper keeps it above 100 times), so that each backend's share is
    /// within a percent of the others'.
    static constexpr std::uint32_t table_size = 65537;

    Picker(Policy policy, std::size_t backends);

    /// The backend for a client, or nullopt when every backend is down.
    std::optional<std::uint32_t> pick(wire::Ipv4Addr client_ip, std::uint16_t client_port,
                                      time::Instant now);

    /// The backend refused or did not answer: out until now + for_d.
    void mark_down(std::uint32_t backend, time::Instant now, time::Duration for_d);
    /// The backend answered: in again, if it was out.
    void mark_up(std::uint32_t backend);
    bool is_up(std::uint32_t backend, time::Instant now) const noexcept;

private:
    /// Brings the down marks up to date (expired ones end) and rebuilds the
    /// Maglev table when the set of backends up has changed.
    void refresh(time::Instant now);
    void build_table();

    Policy policy_;
    std::vector<std::optional<time::Instant>> down_until_;
    std::vector<bool> in_table_; // the set the table was built for
    std::vector<std::int32_t> table_;
    std::uint32_t next_ = 0; // round robin
    bool stale_ = true;
};

} // namespace synack::lb
