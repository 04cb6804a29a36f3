#pragma once
// The deterministic simulation's world: engines joined by simulated links on
// a virtual clock, and optionally a third party on the same wire (a station:
// an attacker, a host spoken by hand). Everything that varies comes from one
// seed, so a run replays exactly: the links' fates (loss, duplication,
// reordering, delay, corruption), the engines' secrets, and the scenario's
// choices.

#include <synack/engine/engine.hpp>
#include <synack/time/clock.hpp>

#include <rte_mbuf.h>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace synack::sim {

/// xoshiro256** seeded through splitmix64: the same numbers on every machine
/// (the standard library's distributions are not specified bit for bit).
class Rng {
public:
    explicit Rng(std::uint64_t seed) noexcept;
    std::uint64_t next() noexcept;
    /// Uniform in [0, n); n > 0.
    std::uint64_t below(std::uint64_t n) noexcept { return next() % n; }
    /// Uniform in [lo, hi].
    std::uint64_t between(std::uint64_t lo, std::uint64_t hi) noexcept { return lo + below(hi - lo + 1); }
    /// True with probability p.
    bool chance(double p) noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53 < p; }
    template <typename T, std::size_t N>
    const T& pick(const T (&items)[N]) noexcept { return items[below(N)]; }

private:
    std::uint64_t s_[4];
};

/// A 64-bit mix (splitmix64's finaliser): stream contents and keys.
std::uint64_t mix64(std::uint64_t x) noexcept;

/// What one direction of a link does to frames.
struct LinkProfile {
    double loss = 0;      // dropped
    double duplicate = 0; // delivered twice
    double reorder = 0;   // held back by reorder_delay, so later frames overtake it
    double corrupt = 0;   // one byte of an IP packet flipped (the checksums must catch it)
    time::Duration delay = time::Duration::from_ms(1);
    time::Duration jitter;        // uniform extra delay in [0, jitter]
    time::Duration reorder_delay = time::Duration::from_ms(3);
    std::uint64_t rate_bps = 0;   // serialisation rate; 0 = unlimited
    std::uint32_t queue_bytes = 0; // drop-tail queue ahead of the rate; 0 = unlimited

    std::string describe() const;
};

struct LinkCounters {
    std::uint64_t sent = 0;
    std::uint64_t delivered = 0;
    std::uint64_t lost = 0;
    std::uint64_t duplicated = 0;
    std::uint64_t reordered = 0;
    std::uint64_t corrupted = 0;
    std::uint64_t queue_drops = 0;
    std::uint64_t black_holed = 0;

    LinkCounters& operator+=(const LinkCounters& o) noexcept;
};

/// One direction of a wire. A sent frame is copied into a fresh mbuf, as a
/// NIC serialises it, and the sender's mbuf is freed (releasing the
/// zero-copy references it held).
class Link {
public:
    Link(const LinkProfile& profile, std::uint64_t seed, rte_mempool* pool);
    ~Link();
    Link(const Link&) = delete;
    Link& operator=(const Link&) = delete;

    /// Takes ownership of the frame.
    void send(rte_mbuf* frame, time::Instant now) noexcept;
    /// Moves up to max frames due at or before now into out, in arrival order.
    std::uint16_t deliver(time::Instant now, rte_mbuf** out, std::uint16_t max) noexcept;
    std::optional<time::Instant> next_arrival() const noexcept;
    std::size_t in_flight() const noexcept { return flight_.size(); }
    /// While set, every frame is lost.
    void set_black_hole(bool on) noexcept { black_hole_ = on; }

    const LinkProfile& profile() const noexcept { return profile_; }
    const LinkCounters& counters() const noexcept { return counters_; }

private:
    struct Frame {
        time::Instant at;
        std::uint64_t order; // ties break by sending order
        rte_mbuf* m;
    };
    void schedule(rte_mbuf* m, time::Instant at) noexcept;

    LinkProfile profile_;
    Rng rng_;
    rte_mempool* pool_;
    std::vector<Frame> flight_; // a min-heap on (at, order)
    std::uint64_t order_ = 0;
    time::Instant busy_until_;
    bool black_hole_ = false;
    LinkCounters counters_;
};

/// Frames as a pcap file (Ethernet, microseconds of virtual time).
class PcapWriter {
public:
    explicit PcapWriter(const std::string& path);
    ~PcapWriter();
    PcapWriter(const PcapWriter&) = delete;
    PcapWriter& operator=(const PcapWriter&) = delete;
    bool ok() const noexcept { return file_ != nullptr; }
    void write(time::Instant at, const rte_mbuf* frame);

private:
    std::FILE* file_;
};

class World;

/// A third party on the wire: an attacker, a host whose TCP never answers, a
/// router. It owns MAC addresses of its own; the switch hands it every frame
/// sent to one of them and every broadcast, after its own link's fate, and it
/// sends with World::inject. (It may also sniff every frame through the
/// observer: an attacker on a shared segment sees everything.)
class Station {
public:
    virtual ~Station() = default;
    /// Whether frames to mac are for the station.
    virtual bool owns(const wire::MacAddr& mac) const noexcept = 0;
    /// A frame from A (from_a) or B arrived; borrowed for the call.
    virtual void receive(World& w, bool from_a, const rte_mbuf* frame) = 0;
};

/// Two engines, A and B, and a link each way; optionally a station beside
/// them, with a link of its own to and from each engine. The links meet in a
/// switch: a frame goes to the engine or station that owns its destination
/// MAC, a broadcast to every other party, a frame to an unknown MAC nowhere.
class World {
public:
    /// Called for each frame an engine transmits (before the link's fate).
    using Observer = std::function<void(time::Instant, bool from_a, const rte_mbuf*)>;

    /// `station` is the profile of each of the station's four links.
    World(const engine::EngineConfig& a, const engine::EngineConfig& b, const LinkProfile& a_to_b,
          const LinkProfile& b_to_a, std::uint64_t seed, rte_mempool* pool,
          const LinkProfile& station = LinkProfile{});
    ~World();
    World(const World&) = delete;
    World& operator=(const World&) = delete;

    rte_mempool* const pool;
    const wire::Ipv4Addr ip_a;
    const wire::Ipv4Addr ip_b;
    time::Instant now;
    engine::Engine a;
    engine::Engine b;
    Link a_to_b;
    Link b_to_a;
    // The station's wires (unused while none is attached).
    Link a_to_x;
    Link b_to_x;
    Link x_to_a;
    Link x_to_b;
    /// Frames the switch dropped: sent to a MAC nobody owns.
    std::uint64_t unknown_destination = 0;

    /// Moves frames from the engines into the links, and those due now out
    /// of the links into the engines. Returns whether anything moved.
    bool pump();
    /// Advances virtual time to the next event (a timer, an arrival, or
    /// `also`), at most to `limit`, and polls both engines there. Returns
    /// false when there is no event before limit.
    bool advance(std::optional<time::Instant> also, time::Instant limit);
    /// Nothing left anywhere: no connection, no timer, no frame.
    bool quiet() const noexcept;

    void set_pcap(PcapWriter* pcap) noexcept { pcap_ = pcap; }
    void set_observer(Observer o) { observer_ = std::move(o); }
    /// Puts a station on the wire (nullptr takes it off); it must outlive the world.
    void attach(Station* s) noexcept { station_ = s; }
    /// Sends a frame from the station to A (to_a) or B now; takes ownership.
    void inject(bool to_a, rte_mbuf* frame);
    /// Frames on any wire.
    std::size_t in_flight() const noexcept;

private:
    bool transmit(engine::Engine& from, bool from_a);
    void forward(rte_mbuf* frame, bool from_a);
    bool receive(Link& link, engine::Engine& to);
    bool receive_station(Link& link, bool from_a);

    const wire::MacAddr mac_a_;
    const wire::MacAddr mac_b_;
    PcapWriter* pcap_ = nullptr;
    Observer observer_;
    Station* station_ = nullptr;
};

} // namespace synack::sim
