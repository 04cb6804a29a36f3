#pragma once
// Counters through rte_telemetry, readable with dpdk-telemetry.py:
//   /synack/stats         totals over every run loop
//   /synack/lcores        the lcores that publish
//   /synack/lcore,<id>    one lcore's counters
// The telemetry thread never reads a counter a run loop is writing: each
// loop publishes a copy, under a lock taken once per publication (about ten
// times a second), and the commands read the copies.

#include <synack/engine/engine.hpp>
#include <synack/runtime/port.hpp>
#include <synack/runtime/steering.hpp>

namespace synack::runtime {

/// Registers the /synack/ commands (once per process; later calls do nothing).
void register_telemetry() noexcept;

/// Publishes lcore's counters for the telemetry commands.
void publish_telemetry(unsigned lcore, const engine::EngineCounters& engine, const PortCounters& port,
                       const SteeringCounters& steering, SteeringMode mode, std::size_t connections) noexcept;

} // namespace synack::runtime
