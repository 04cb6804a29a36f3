#pragma once
// The adversarial scenarios: hostile or broken peers against engines that run
// with the engine's default settings (EngineConfig{}: MSL 30 s, Linux's
// retry counts, ARP resolving every next hop over the simulated link), unlike
// the relaxed settings of base_config() the other scenarios use so that a
// loss-induced give-up is never mistaken for a bug. Here the peers misbehave
// on purpose, so the defaults are what must hold.
//
// Each scenario is deterministic from its seed and registered in the table
// of scenarios.cpp; what it checks beyond the run's invariants (streams
// intact, every connection closed, no timer armed, no mbuf held) is in its
// own file's header comment.

#include "sim/scenarios.hpp"

namespace synack::sim::hostile {

/// Addresses on the simulated link (10.0.0.0/24): A and B, the hosts the
/// adversary plays, and the gateway through which every other address is
/// reached (RFC 2544's 198.18.0.0/15 included).
inline constexpr wire::Ipv4Addr ip_a = wire::Ipv4Addr::from_octets(10, 0, 0, 1);
inline constexpr wire::Ipv4Addr ip_b = wire::Ipv4Addr::from_octets(10, 0, 0, 2);
inline constexpr wire::Ipv4Addr ip_x = wire::Ipv4Addr::from_octets(10, 0, 0, 3);
inline constexpr wire::Ipv4Addr ip_silent = wire::Ipv4Addr::from_octets(10, 0, 0, 4);
inline constexpr wire::Ipv4Addr ip_gateway = wire::Ipv4Addr::from_octets(10, 0, 0, 254);
inline constexpr wire::MacAddr mac_a{{0x02, 0, 0, 0, 0, 0x01}};
inline constexpr wire::MacAddr mac_b{{0x02, 0, 0, 0, 0, 0x02}};
inline constexpr wire::MacAddr mac_x{{0x02, 0, 0, 0, 0, 0x03}};
inline constexpr wire::MacAddr mac_silent{{0x02, 0, 0, 0, 0, 0x04}};
inline constexpr wire::MacAddr mac_gateway{{0x02, 0, 0, 0, 0, 0xfe}};
inline constexpr std::uint16_t server_port = 80;

/// EngineConfig{} with A's or B's addresses, the gateway and a secret. Three
/// limits are smaller than the defaults (connections, TIME-WAIT records,
/// reassembly segments): they size arrays that cost milliseconds to set up
/// per run and that no scenario comes near; each scenario that could reach
/// one checks that it did not (`check_limits_unreached`).
engine::EngineConfig default_config(bool a, std::uint64_t secret);

/// Default configurations on both ends, a mildly lossy link each way (at
/// most 2%: with Linux's six SYN retries a handshake must not fail by bad
/// luck), and a clean station wire with a short fixed delay, so that what
/// the adversary sends arrives in order.
Setup default_setup(Rng& r);

/// Mbufs the engines hold: the pool's use less a baseline and the frames on
/// the wires (one mbuf each). Sampled between steps, when neither the
/// applications nor the adversary hold any.
class MbufGauge {
public:
    explicit MbufGauge(rte_mempool* pool) noexcept
        : pool_(pool), baseline_(rte_mempool_in_use_count(pool)) {}
    unsigned held(const World& w) const noexcept;
    /// Samples now (counting it only when no frame waits in an engine's
    /// transmit queue); returns the current value.
    unsigned sample(const World& w) noexcept;
    unsigned peak() const noexcept { return peak_; }

private:
    rte_mempool* pool_;
    unsigned baseline_;
    unsigned peak_ = 0;
};

/// Fails when an engine reached one of the limits default_config() lowered
/// (the connection limit only when `connections`).
void check_limits_unreached(World& w, std::vector<std::string>& failures, bool connections = true);

/// Σ min(first * 2^i, max) for i in [0, count): the time `count` timeouts
/// take when each doubles the last up to max (RFC 6298 section 5.5).
time::Duration backoff_total(time::Duration first, time::Duration max, unsigned count);

std::unique_ptr<Scenario> make_syn_flood(Rng& r, Setup& s);
std::unique_ptr<Scenario> make_blind_injection(Rng& r, Setup& s);
std::unique_ptr<Scenario> make_tiny_segments(Rng& r, Setup& s);
std::unique_ptr<Scenario> make_ack_unsent(Rng& r, Setup& s);
std::unique_ptr<Scenario> make_zero_window_forever(Rng& r, Setup& s);
std::unique_ptr<Scenario> make_silent_peer(Rng& r, Setup& s);
std::unique_ptr<Scenario> make_churn_at_max(Rng& r, Setup& s);

} // namespace synack::sim::hostile
