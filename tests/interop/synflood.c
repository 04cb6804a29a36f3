/* A spoofed SYN flood for the interoperability tests, bounded in rate, count
 * and time, from the benchmarking range 198.18.0.0/15 (RFC 2544) only, and
 * out of one interface only (SO_BINDTODEVICE): the test runs it in its own
 * network namespace, on its own veth pair.
 *
 *   synflood IFNAME DST_IP DST_PORT PPS COUNT SECONDS
 *
 * Sends COUNT SYNs at most, for SECONDS at most, at PPS per second at most,
 * through a raw IPv4 socket (IPPROTO_RAW, so IP_HDRINCL) with sendmmsg in
 * batches. Each SYN looks like Linux's (MSS, SACK-permitted, timestamps,
 * window scale) from a random source address and port of the range, with a
 * random ISN and timestamp. The checksums are summed once over what every
 * SYN shares and then completed per SYN with the words that change (RFC
 * 1071 section 2: the sum is associative, so the changing words are added
 * to the fixed part's sum; RFC 1624 for the one's complement arithmetic).
 *
 * Prints one JSON object: sent, send errors, seconds, the achieved rate, and
 * the start and end as Unix times (CLOCK_REALTIME, so that the test can
 * place its own measurements against the flood). Exit status 2 on a bad
 * argument, 1 when the socket cannot be made. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum {
    batch = 64,
    ip_len = 20,
    tcp_len = 40, /* 20 + MSS 4 + SACK-permitted 2 + timestamps 10 + NOP 1 + window scale 3 */
    syn_len = ip_len + tcp_len,
};

static const uint64_t count_max = 10000000; /* a few seconds at any rate a test wants */
static const double seconds_max = 60.0;
static const uint32_t source_net = 0xC6120000u; /* 198.18.0.0 */
static const uint32_t source_mask = 0xFFFE0000u; /* /15 */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

/* xorshift64*: fast, and good enough to spread addresses and ports. */
static uint64_t rng(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}

static double now_s(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint32_t sum16(const uint8_t* p, size_t n) {
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < n; i += 2) {
        s += (uint32_t)p[i] << 8 | p[i + 1];
    }
    return s;
}

static uint16_t fold(uint32_t s) {
    while (s >> 16) {
        s = (s & 0xFFFF) + (s >> 16);
    }
    return (uint16_t)s;
}

static void put16(uint8_t* p, uint16_t v) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t* p, uint32_t v) {
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

static int usage(void) {
    fprintf(stderr, "usage: synflood IFNAME DST_IP DST_PORT PPS COUNT SECONDS\n"
                    "  (sources from 198.18.0.0/15 only; COUNT <= %llu, SECONDS <= %.0f)\n",
            (unsigned long long)count_max, seconds_max);
    return 2;
}

int main(int argc, char** argv) {
    if (argc != 7) {
        return usage();
    }
    const char* ifname = argv[1];
    struct in_addr dst;
    char* end = NULL;
    if (inet_pton(AF_INET, argv[2], &dst) != 1) {
        return usage();
    }
    const unsigned long port = strtoul(argv[3], &end, 10);
    if (*end != '\0' || port == 0 || port > 65535) {
        return usage();
    }
    const double pps = strtod(argv[4], &end);
    if (*end != '\0' || !(pps > 0)) {
        return usage();
    }
    const unsigned long long count = strtoull(argv[5], &end, 10);
    if (*end != '\0' || count == 0 || count > count_max) {
        return usage();
    }
    const double seconds = strtod(argv[6], &end);
    if (*end != '\0' || !(seconds > 0) || seconds > seconds_max) {
        return usage();
    }
    if (if_nametoindex(ifname) == 0) {
        fprintf(stderr, "synflood: no interface %s\n", ifname);
        return 2;
    }

    const int fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
    if (fd < 0) {
        perror("synflood: socket");
        return 1;
    }
    if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname)) != 0) {
        perror("synflood: SO_BINDTODEVICE");
        return 1;
    }
    const int sndbuf = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);

    rng_state ^= (uint64_t)now_s(CLOCK_REALTIME) * 1000003u ^ (uint64_t)getpid() << 32;

    /* The template: what every SYN shares. */
    uint8_t tmpl[syn_len];
    memset(tmpl, 0, sizeof tmpl);
    uint8_t* ip = tmpl;
    uint8_t* tcp = tmpl + ip_len;
    ip[0] = 0x45;
    put16(ip + 2, syn_len);
    ip[6] = 0x40; /* DF */
    ip[8] = 64;   /* TTL */
    ip[9] = IPPROTO_TCP;
    memcpy(ip + 16, &dst, 4);
    put16(tcp + 2, (uint16_t)port);
    tcp[12] = (tcp_len / 4) << 4;
    tcp[13] = 0x02; /* SYN */
    put16(tcp + 14, 64240);
    static const uint8_t options[20] = {2, 4, 0x05, 0xB4, /* MSS 1460 */
                                        4, 2,             /* SACK-permitted */
                                        8, 10, 0, 0, 0, 0, 0, 0, 0, 0, /* timestamps */
                                        1, 3, 3, 7};      /* NOP, window scale 7 */
    memcpy(tcp + 20, options, sizeof options);

    /* Sums of the fixed words; per SYN, the source address, port, ISN and
     * timestamp value are added (and the IP ID, for the IP header). */
    uint8_t pseudo[12] = {0};
    memcpy(pseudo + 4, &dst, 4);
    pseudo[9] = IPPROTO_TCP;
    put16(pseudo + 10, tcp_len);
    const uint32_t tcp_fixed = sum16(pseudo, sizeof pseudo) + sum16(tcp, tcp_len);
    const uint32_t ip_fixed = sum16(ip, ip_len);

    static uint8_t frames[batch][syn_len];
    struct mmsghdr msgs[batch];
    struct iovec iov[batch];
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr = dst};
    memset(msgs, 0, sizeof msgs);
    for (int i = 0; i < batch; ++i) {
        iov[i].iov_base = frames[i];
        iov[i].iov_len = syn_len;
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_name = &to;
        msgs[i].msg_hdr.msg_namelen = sizeof to;
    }

    uint64_t sent = 0;
    uint64_t errors = 0;
    const double start_wall = now_s(CLOCK_REALTIME);
    const double start = now_s(CLOCK_MONOTONIC);
    double elapsed = 0;
    while (sent < count && (elapsed = now_s(CLOCK_MONOTONIC) - start) < seconds) {
        /* Rate limit: no more than pps * elapsed so far (a short burst of
         * one batch at most when catching up). */
        const double allowed = pps * elapsed - (double)sent;
        if (allowed < 1) {
            const struct timespec pause = {0, 20000};
            nanosleep(&pause, NULL);
            continue;
        }
        int n = allowed < batch ? (int)allowed : batch;
        if ((uint64_t)n > count - sent) {
            n = (int)(count - sent);
        }
        for (int i = 0; i < n; ++i) {
            uint8_t* f = frames[i];
            memcpy(f, tmpl, syn_len);
            const uint64_t r1 = rng();
            const uint64_t r2 = rng();
            const uint32_t src = source_net | ((uint32_t)r1 & ~source_mask);
            const uint16_t sport = (uint16_t)(1024 + (r1 >> 32) % 64512);
            const uint32_t isn = (uint32_t)r2;
            const uint32_t tsval = (uint32_t)(r2 >> 32);
            const uint16_t id = (uint16_t)(r1 >> 48);
            put16(f + 4, id);
            put32(f + 12, src);
            put16(f + 10, (uint16_t)~fold(ip_fixed + id + (src >> 16) + (src & 0xFFFF)));
            uint8_t* t = f + ip_len;
            put16(t, sport);
            put32(t + 4, isn);
            put32(t + 20 + 8, tsval);
            put16(t + 16, (uint16_t)~fold(tcp_fixed + (src >> 16) + (src & 0xFFFF) + sport + (isn >> 16) +
                                          (isn & 0xFFFF) + (tsval >> 16) + (tsval & 0xFFFF)));
        }
        const int done = sendmmsg(fd, msgs, (unsigned)n, 0);
        if (done < 0) {
            if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR) {
                perror("synflood: sendmmsg");
                break;
            }
            errors += (uint64_t)n;
            sent += (uint64_t)n; /* drawn and lost: the rate counts them */
            continue;
        }
        sent += (uint64_t)done;
    }
    elapsed = now_s(CLOCK_MONOTONIC) - start;
    const double end_wall = start_wall + elapsed;
    printf("{\"sent\": %llu, \"send_errors\": %llu, \"seconds\": %.3f, \"pps\": %.0f, \"target_pps\": %.0f, "
           "\"start\": %.6f, \"end\": %.6f}\n",
           (unsigned long long)(sent - errors), (unsigned long long)errors, elapsed,
           elapsed > 0 ? (double)(sent - errors) / elapsed : 0.0, pps, start_wall, end_wall);
    close(fd);
    return 0;
}
