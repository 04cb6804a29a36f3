#include <synack/runtime/telemetry.hpp>

#include <rte_lcore.h>
#include <rte_spinlock.h>
#include <rte_telemetry.h>

#include <array>
#include <cstdlib>

namespace synack::runtime {

namespace {

struct Published {
    bool present = false;
    engine::EngineCounters engine;
    PortCounters port;
    SteeringCounters steering;
    SteeringMode mode = SteeringMode::single;
    std::size_t connections = 0;
};

struct Board {
    rte_spinlock_t lock = RTE_SPINLOCK_INITIALIZER;
    std::array<Published, RTE_MAX_LCORE> lcores{};
    bool registered = false;
};

Board& board() {
    static Board b;
    return b;
}

void put_counters(rte_tel_data* d, const Published& p) {
    const auto& e = p.engine;
    rte_tel_data_add_dict_u64(d, "rx_packets", p.port.rx_packets);
    rte_tel_data_add_dict_u64(d, "tx_packets", p.port.tx_packets);
    rte_tel_data_add_dict_u64(d, "tx_dropped", p.port.tx_dropped);
    // The port's, held by one lcore (RunLoop::publish): 0 on the others.
    rte_tel_data_add_dict_u64(d, "rx_missed", p.port.rx_missed);
    rte_tel_data_add_dict_u64(d, "rx_nombuf", p.port.rx_nombuf);
    rte_tel_data_add_dict_u64(d, "rx_errors", p.port.rx_errors);
    rte_tel_data_add_dict_string(d, "steering", to_string(p.mode));
    rte_tel_data_add_dict_u64(d, "steering_passed", p.steering.passed);
    rte_tel_data_add_dict_u64(d, "steering_taken", p.steering.taken);
    rte_tel_data_add_dict_u64(d, "steering_ring_full", p.steering.ring_full);
    rte_tel_data_add_dict_u64(d, "steering_rss_mismatches", p.steering.rss_mismatches);
    rte_tel_data_add_dict_u64(d, "steering_arp_copies", p.steering.arp_copies);
    rte_tel_data_add_dict_u64(d, "steering_copy_failed", p.steering.copy_failed);
    rte_tel_data_add_dict_u64(d, "steering_tx_handed_off", p.steering.tx_handed_off);
    rte_tel_data_add_dict_u64(d, "frames_in", e.frames_in);
    rte_tel_data_add_dict_u64(d, "frames_out", e.frames_out);
    rte_tel_data_add_dict_u64(d, "segments_in", e.tcp.segments_in);
    rte_tel_data_add_dict_u64(d, "segments_out", e.tcp.segments_out);
    rte_tel_data_add_dict_u64(d, "retransmits", e.tcp.retransmits);
    rte_tel_data_add_dict_u64(d, "timeouts", e.tcp.timeouts);
    rte_tel_data_add_dict_u64(d, "resets_sent", e.tcp.resets_sent);
    rte_tel_data_add_dict_u64(d, "challenge_acks", e.tcp.challenge_acks);
    rte_tel_data_add_dict_u64(d, "invalid_acks_limited", e.tcp.invalid_acks_limited);
    rte_tel_data_add_dict_u64(d, "tcp_output_full", e.tcp.output_full);
    rte_tel_data_add_dict_u64(d, "tcp_events_lost", e.tcp.events_lost);
    rte_tel_data_add_dict_u64(d, "connections", p.connections);
    rte_tel_data_add_dict_u64(d, "connections_opened", e.connections_opened);
    rte_tel_data_add_dict_u64(d, "connections_closed", e.connections_closed);
    rte_tel_data_add_dict_u64(d, "syn_cookies_sent", e.syn_cookies_sent);
    rte_tel_data_add_dict_u64(d, "syn_cookies_accepted", e.syn_cookies_accepted);
    rte_tel_data_add_dict_u64(d, "syn_cookies_rejected", e.syn_cookies_rejected);
    rte_tel_data_add_dict_u64(d, "half_open_timed_out", e.half_open_timed_out);
    rte_tel_data_add_dict_u64(d, "rx_pressure_high", e.rx_pressure_high);
    rte_tel_data_add_dict_u64(d, "rx_pressure_critical", e.rx_pressure_critical);
    rte_tel_data_add_dict_u64(d, "fast_retransmits", e.tcp.fast_retransmits);
    rte_tel_data_add_dict_u64(d, "ooo_queued", e.tcp.ooo_queued);
    rte_tel_data_add_dict_u64(d, "arp_unreachable", e.neighbors.unreachable);
    rte_tel_data_add_dict_u64(d, "arp_pending_dropped", e.neighbors.pending_dropped);
    rte_tel_data_add_dict_u64(d, "arp_cache_full", e.neighbors.cache_full);
    rte_tel_data_add_dict_u64(d, "time_wait_compacted", e.time_wait_compacted);
    rte_tel_data_add_dict_u64(d, "time_wait_full", e.time_wait_full);
    rte_tel_data_add_dict_u64(d, "tx_queue_full", e.tx_queue_full);
    rte_tel_data_add_dict_u64(d, "events_lost", e.events_lost);
    rte_tel_data_add_dict_u64(d, "arp_requests_sent", e.arp_requests_sent);
    rte_tel_data_add_dict_u64(d, "arp_replies_sent", e.arp_replies_sent);
    rte_tel_data_add_dict_u64(d, "icmp_echo_replies", e.icmp_echo_replies);
    rte_tel_data_add_dict_u64(d, "icmp_errors_sent", e.icmp_errors_sent);
    rte_tel_data_add_dict_u64(d, "icmp_errors_limited", e.icmp_errors_limited);
    for (std::size_t i = 0; i < engine::frame_drop_count; ++i) {
        char name[64];
        std::snprintf(name, sizeof name, "drop_%s", engine::to_string(static_cast<engine::FrameDrop>(i)));
        rte_tel_data_add_dict_u64(d, name, e.frame_drops[i]);
    }
    for (std::size_t i = 0; i < tcp::drop_reason_count; ++i) {
        char name[64];
        std::snprintf(name, sizeof name, "tcp_drop_%s", tcp::to_string(static_cast<tcp::DropReason>(i)));
        rte_tel_data_add_dict_u64(d, name, e.tcp.drops.count[i]);
    }
    for (std::size_t i = 0; i < tcp::tcp_state_count; ++i) {
        char name[64];
        std::snprintf(name, sizeof name, "state_%s", tcp::to_string(static_cast<tcp::TcpState>(i)));
        rte_tel_data_add_dict_u64(d, name, e.connections_by_state[i]);
    }
}

/// Sums b into a, counter by counter.
void accumulate(Published& a, const Published& b) {
    a.engine += b.engine;
    a.port += b.port;
    a.steering += b.steering;
    a.mode = b.mode;
    a.connections += b.connections;
}

int stats_cmd(const char*, const char*, rte_tel_data* d) {
    Published total;
    Board& b = board();
    rte_spinlock_lock(&b.lock);
    for (const Published& p : b.lcores) {
        if (p.present) {
            accumulate(total, p);
        }
    }
    rte_spinlock_unlock(&b.lock);
    rte_tel_data_start_dict(d);
    put_counters(d, total);
    return 0;
}

int lcores_cmd(const char*, const char*, rte_tel_data* d) {
    rte_tel_data_start_array(d, RTE_TEL_INT_VAL);
    Board& b = board();
    rte_spinlock_lock(&b.lock);
    for (std::size_t i = 0; i < b.lcores.size(); ++i) {
        if (b.lcores[i].present) {
            rte_tel_data_add_array_int(d, static_cast<int>(i));
        }
    }
    rte_spinlock_unlock(&b.lock);
    return 0;
}

int lcore_cmd(const char*, const char* params, rte_tel_data* d) {
    if (params == nullptr || *params == 0) {
        return -1; // "/synack/lcore,<id>"
    }
    char* end = nullptr;
    const unsigned long id = std::strtoul(params, &end, 10);
    Board& b = board();
    if (*end != 0 || id >= b.lcores.size()) {
        return -1;
    }
    rte_spinlock_lock(&b.lock);
    const Published p = b.lcores[id];
    rte_spinlock_unlock(&b.lock);
    if (!p.present) {
        return -1;
    }
    rte_tel_data_start_dict(d);
    put_counters(d, p);
    return 0;
}

} // namespace

void register_telemetry() noexcept {
    Board& b = board();
    if (b.registered) {
        return;
    }
    b.registered = true;
    rte_telemetry_register_cmd("/synack/stats", stats_cmd, "synack counters, summed over every run loop");
    rte_telemetry_register_cmd("/synack/lcores", lcores_cmd, "the lcores whose run loops publish counters");
    rte_telemetry_register_cmd("/synack/lcore", lcore_cmd, "one run loop's counters. Parameter: lcore id");
}

void publish_telemetry(unsigned lcore, const engine::EngineCounters& engine, const PortCounters& port,
                       const SteeringCounters& steering, SteeringMode mode, std::size_t connections) noexcept {
    Board& b = board();
    if (lcore >= b.lcores.size()) {
        return;
    }
    rte_spinlock_lock(&b.lock);
    Published& p = b.lcores[lcore];
    p.present = true;
    p.engine = engine;
    p.port = port;
    p.steering = steering;
    p.mode = mode;
    p.connections = connections;
    rte_spinlock_unlock(&b.lock);
}

} // namespace synack::runtime
