"""Operation the DPDK way: dpdk-telemetry.py reads synack's /synack/
counters, and they match what the test did."""
import time


def test_telemetry_counters_match_the_traffic(link, bench):
    b = bench("--mode", "echo", telemetry=True)
    assert link.peer("echo", 5001, 1)["ok"]
    assert link.peer("echo", 5001, 64 * 1024)["ok"]
    assert b.wait_connections(0)
    time.sleep(0.3)  # the run loop publishes ten times a second
    t = b.telemetry("/synack/stats", "/synack/lcores")
    stats = t["/synack/stats"]
    assert stats["connections_opened"] == 2
    assert stats["connections"] == 0
    assert stats["arp_replies_sent"] >= 1
    assert stats["segments_in"] >= 2 * 3  # at least the handshakes and FINs
    assert stats["rx_packets"] == stats["frames_in"]
    assert stats["tx_packets"] == stats["frames_out"]
    assert stats["drop_malformed"] == 0
    lcores = t["/synack/lcores"]
    assert len(lcores) == 1
    one = b.telemetry(f"/synack/lcore,{lcores[0]}")["/synack/lcore"]
    assert one["connections_opened"] == 2
    s = b.stop()
    assert s["accepted"] == 2


def test_telemetry_shows_each_run_loop_and_the_steering(link, bench):
    b = bench("--mode", "echo", telemetry=True, lcores="0-1")
    r = link.peer("many", 5001, 50)
    assert r["ok"]
    assert b.wait_connections(0)
    time.sleep(0.3)
    t = b.telemetry("/synack/stats", "/synack/lcores")
    stats = t["/synack/stats"]
    assert sorted(t["/synack/lcores"]) == [0, 1]

    def both_loops():
        return [b.telemetry(f"/synack/lcore,{i}")["/synack/lcore"] for i in (0, 1)]

    def balanced(per):
        return per[0]["steering_passed"] == per[1]["steering_taken"] == per[1]["frames_in"]
    # Each loop publishes its own copy ten times a second, and the kernel may
    # still send a frame (an ARP probe) between the two reads: read again
    # until both copies are of one moment.
    per = both_loops()
    for _ in range(10):
        if balanced(per):
            break
        time.sleep(0.3)
        per = both_loops()
    assert stats["connections_opened"] == 50 == sum(p["connections_opened"] for p in per)
    assert all(p["connections_opened"] > 0 for p in per)
    assert stats["steering"] == "software"
    # One queue: loop 0 received every frame and passed loop 1 its share;
    # frames passed are frames taken, none lost on the way.
    assert per[1]["rx_packets"] == 0
    assert balanced(per) and per[1]["frames_in"] > 0, per
    assert stats["steering_ring_full"] == 0
    b.stop()
