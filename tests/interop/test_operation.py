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
