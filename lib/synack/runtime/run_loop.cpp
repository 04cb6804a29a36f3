#include <synack/runtime/run_loop.hpp>

namespace synack::runtime {

RunLoop::RunLoop(Port& port, engine::Engine& engine, const time::Clock& clock, unsigned lcore, Steering& steering,
                 unsigned worker)
    : port_(port), engine_(engine), clock_(clock), lcore_(lcore), steering_(steering), worker_(worker),
      rx_queues_(steering.rx_queues(worker)), tx_queue_(steering.tx_queue(worker)),
      outbox_(steering.workers()), outbox_len_(steering.workers(), 0) {
    for (unsigned w = 0; w < steering.workers(); ++w) {
        if (w != worker && tx_queue_ && !steering.tx_queue(w) && steering.tx_owner(w) == worker) {
            handing_off_.push_back(w);
        }
    }
}

std::uint32_t RunLoop::once() noexcept {
    rte_mbuf* pkts[burst];
    rte_mbuf* mine[burst];
    const time::Instant now = clock_.now();
    std::uint32_t moved = 0;
    for (const std::uint16_t q : rx_queues_) {
        const std::uint16_t n = port_.receive(q, pkts, burst);
        port_counters_.rx_packets += n;
        moved += n;
        const std::uint16_t k = steering_.workers() == 1 ? n : sort(pkts, n, mine);
        if (k != 0) {
            engine_.input(steering_.workers() == 1 ? pkts : mine, k, now);
        }
    }
    for (unsigned from = 0; from < steering_.workers(); ++from) {
        if (from != worker_) {
            const auto n = static_cast<std::uint16_t>(
                rte_ring_sc_dequeue_burst(steering_.ring(from, worker_), reinterpret_cast<void**>(pkts), burst, nullptr));
            steering_counters_.taken += n;
            moved += n;
            if (n != 0) {
                engine_.input(pkts, n, now);
            }
        }
    }
    engine_.poll(now);
    while (const std::uint16_t out = engine_.drain(pkts, burst)) {
        transmit(pkts, out);
        moved += out;
    }
    for (const unsigned w : handing_off_) {
        while (const auto n = static_cast<std::uint16_t>(rte_ring_sc_dequeue_burst(
                   steering_.tx_ring(w), reinterpret_cast<void**>(pkts), burst, nullptr))) {
            transmit(pkts, n);
            moved += n;
        }
    }
    if (now >= next_publish_) {
        publish();
        next_publish_ = now + time::Duration::from_ms(100);
    }
    return moved;
}

std::uint16_t RunLoop::sort(rte_mbuf** pkts, std::uint16_t n, rte_mbuf** mine) noexcept {
    std::uint16_t k = 0;
    for (std::uint16_t i = 0; i < n; ++i) {
        rte_mbuf* m = pkts[i];
        const unsigned o = steering_.owner(m, worker_, steering_counters_);
        if (o == worker_) {
            mine[k++] = m;
            continue;
        }
        if (o != Steering::everyone) {
            pass(o, m);
            continue;
        }
        for (unsigned w = 0; w < steering_.workers(); ++w) {
            if (w == worker_) {
                continue;
            }
            if (rte_mbuf* copy = rte_pktmbuf_copy(m, m->pool, 0, UINT32_MAX)) {
                ++steering_counters_.arp_copies;
                pass(w, copy);
            } else {
                ++steering_counters_.copy_failed;
            }
        }
        mine[k++] = m;
    }
    flush_passed();
    return k;
}

void RunLoop::pass(unsigned to, rte_mbuf* m) noexcept {
    outbox_[to][outbox_len_[to]++] = m;
}

void RunLoop::flush_passed() noexcept {
    for (unsigned to = 0; to < outbox_.size(); ++to) {
        const std::uint16_t n = outbox_len_[to];
        if (n == 0) {
            continue;
        }
        const unsigned sent = rte_ring_sp_enqueue_burst(steering_.ring(worker_, to),
                                                        reinterpret_cast<void**>(outbox_[to].data()), n, nullptr);
        steering_counters_.passed += sent;
        if (sent < n) {
            // The owner is behind: its ring is the back-pressure; drop as a NIC would.
            steering_counters_.ring_full += n - sent;
            rte_pktmbuf_free_bulk(outbox_[to].data() + sent, n - sent);
        }
        outbox_len_[to] = 0;
    }
}

void RunLoop::transmit(rte_mbuf** pkts, std::uint16_t n) noexcept {
    if (tx_queue_) {
        const std::uint16_t sent = port_.transmit(*tx_queue_, pkts, n);
        port_counters_.tx_packets += sent;
        port_counters_.tx_dropped += n - sent;
        return;
    }
    const unsigned handed = rte_ring_sp_enqueue_burst(steering_.tx_ring(worker_), reinterpret_cast<void**>(pkts), n,
                                                      nullptr);
    steering_counters_.tx_handed_off += handed;
    if (handed < n) {
        port_counters_.tx_dropped += n - handed;
        rte_pktmbuf_free_bulk(pkts + handed, n - handed);
    }
}

void RunLoop::publish() noexcept {
    if (worker_ == 0) {
        (void)port_.read_rx_drops(port_counters_);
    }
    publish_telemetry(lcore_, engine_.counters(), port_counters_, steering_counters_, steering_.mode(),
                      engine_.connections());
}

} // namespace synack::runtime
