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

void add_counters(rte_tel_data* d, const Published& p) {
    const auto& e = p.engine;
    rte_tel_data_add_dict_u64(d, "rx_packets", p.port.rx_packets);
    rte_tel_data_add_dict_u64(d, "tx_packets", p.port.tx_packets);
    rte_tel_data_add_dict_u64(d, "tx_dropped", p.port.tx_dropped);
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
    rte_tel_data_add_dict_u64(d, "connections", p.connections);
    rte_tel_data_add_dict_u64(d, "connections_opened", e.connections_opened);
    rte_tel_data_add_dict_u64(d, "connections_closed", e.connections_closed);
    rte_tel_data_add_dict_u64(d, "arp_requests_sent", e.arp_requests_sent);
    rte_tel_data_add_dict_u64(d, "arp_replies_sent", e.arp_replies_sent);
    rte_tel_data_add_dict_u64(d, "icmp_echo_replies", e.icmp_echo_replies);
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

template <typename Array>
void add_each(Array& a, const Array& b) {
    for (std::size_t i = 0; i < a.size(); ++i) {
        a[i] += b[i];
    }
}

/// Sums b into a, counter by counter.
void accumulate(Published& a, const Published& b) {
    auto& x = a.engine;
    const auto& y = b.engine;
    a.port += b.port;
    a.mode = b.mode;
    a.steering += b.steering;
    a.connections += b.connections;
    x.frames_in += y.frames_in;
    x.frames_out += y.frames_out;
    x.tcp.segments_in += y.tcp.segments_in;
    x.tcp.segments_out += y.tcp.segments_out;
    x.tcp.retransmits += y.tcp.retransmits;
    x.tcp.timeouts += y.tcp.timeouts;
    x.tcp.resets_sent += y.tcp.resets_sent;
    x.connections_opened += y.connections_opened;
    x.connections_closed += y.connections_closed;
    x.arp_requests_sent += y.arp_requests_sent;
    x.arp_replies_sent += y.arp_replies_sent;
    x.icmp_echo_replies += y.icmp_echo_replies;
    add_each(x.frame_drops, y.frame_drops);
    add_each(x.tcp.drops.count, y.tcp.drops.count);
    add_each(x.connections_by_state, y.connections_by_state);
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
    add_counters(d, total);
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
    add_counters(d, p);
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
