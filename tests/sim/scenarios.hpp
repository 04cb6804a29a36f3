#pragma once
// The simulation's scenarios, and the run of one scenario for one seed with
// every invariant checked.

#include "sim/app.hpp"

#include <memory>
#include <span>
#include <string>
#include <vector>

namespace synack::sim {

/// The world a scenario runs in: chosen from the seed, adjusted by the scenario.
struct Setup {
    engine::EngineConfig a;
    engine::EngineConfig b;
    LinkProfile a_to_b;
    LinkProfile b_to_a;
    /// Each of the station's wires, when a scenario puts one on the link.
    LinkProfile station;
    /// Virtual time allowed for the whole run, TIME-WAIT included.
    time::Duration deadline = time::Duration::from_s(6 * 3600);
};

class Scenario {
public:
    virtual ~Scenario() = default;
    /// Opens listeners and connections.
    virtual void start(App& app, World& w) = 0;
    /// Timed actions of the scenario itself (a black hole, a late connect).
    virtual bool step(App&, World&) { return false; }
    virtual std::optional<time::Instant> wakeup() const { return std::nullopt; }
    /// Every frame an engine transmits, in order.
    virtual void observe(time::Instant, bool /*from_a*/, const rte_mbuf*) {}
    /// Whether the scenario has nothing left to do (the run ends once it has
    /// and everything is closed and quiet).
    virtual bool finished() const { return true; }
    /// Checks of the scenario's own, after the run.
    virtual void check(App&, World&, std::vector<std::string>&) const {}
};

struct ScenarioInfo {
    const char* name;
    const char* what;
    std::unique_ptr<Scenario> (*make)(Rng& rng, Setup& setup);
};

std::span<const ScenarioInfo> scenarios();

/// A link with a random mix of impairments at the given loss rate.
LinkProfile random_profile(Rng& r, double loss);

/// The engine configuration both ends start from (before the seed varies it).
engine::EngineConfig base_config(bool a, std::uint64_t secret);

struct RunResult {
    std::vector<std::string> failures;
    LinkProfile a_to_b;
    LinkProfile b_to_a;
    LinkCounters links;
    time::Duration virtual_time;   // until everything closed and TIME-WAIT expired
    time::Duration last_read_time; // until the applications read their last byte
    std::uint64_t bytes_delivered = 0;
    std::uint64_t retransmits = 0;
    std::uint64_t timeouts = 0;
};

struct RunOptions {
    bool verbose = false;
    std::string pcap; // write every frame here when set
};

/// Runs one scenario for one seed and checks every invariant: streams intact,
/// every connection closed, TIME-WAIT expired, no timer armed, no mbuf held.
RunResult run(const ScenarioInfo& scenario, std::uint64_t seed, const RunOptions& options, rte_mempool* pool);

/// The goodput measurement: one bulk transfer of `bytes` over a 1 Gbit/s link
/// with 5 ms of delay each way, a 1 MiB queue and `loss` in both directions.
Setup goodput_setup(double loss);
std::unique_ptr<Scenario> bulk_transfer(std::uint64_t bytes);

/// Runs setup and scenario as given (the goodput measurement uses it).
RunResult run(Setup setup, Scenario& scenario, std::uint64_t seed, const RunOptions& options, rte_mempool* pool);

} // namespace synack::sim
