// C reference for the af_packet paths, same kernel path and geometry as @x/nethuns's defaults:
//   afpacket rx IFACE COUNT IDLE_MS   TPACKET_V3 RX ring (8 x 1 MiB blocks, tov 10 ms), poll + block walk
//   afpacket tx IFACE COUNT SIZE      TPACKET_V3 TX ring (1024 x 2048), kick every 64 frames, count completions
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"

static int open_sock(const char *ifname, int rx, struct tpacket_req3 *req, int tx_ring, uint8_t **map, size_t *len) {
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (fd < 0) { perror("socket"); exit(1); }
  int v = TPACKET_V3;
  if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v, sizeof v) < 0) { perror("PACKET_VERSION"); exit(1); }
  if (setsockopt(fd, SOL_PACKET, tx_ring ? PACKET_TX_RING : PACKET_RX_RING, req, sizeof *req) < 0) {
    perror("PACKET_*_RING"); exit(1);
  }
  if (tx_ring) { int one = 1; setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one); }
  *len = (size_t)req->tp_block_size * req->tp_block_nr;
  *map = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
  if (*map == MAP_FAILED) { perror("mmap"); exit(1); }
  struct sockaddr_ll sll = {0};
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = rx ? htons(ETH_P_ALL) : 0;
  sll.sll_ifindex = if_nametoindex(ifname);
  if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) { perror("bind"); exit(1); }
  return fd;
}

static int rx(const char *ifname, uint64_t count, int idle_ms) {
  struct tpacket_req3 req = {0};
  req.tp_block_size = 1 << 20;
  req.tp_block_nr = 8;
  req.tp_frame_size = 2048;
  req.tp_frame_nr = (req.tp_block_size / req.tp_frame_size) * req.tp_block_nr;
  req.tp_retire_blk_tov = 10;
  uint8_t *map; size_t len;
  int fd = open_sock(ifname, 1, &req, 0, &map, &len);
  printf("{\"event\":\"ready\"}\n");
  fflush(stdout);
  cpu_at_ready = cpu_s();
  uint64_t n = 0;
  double first = 0, last = 0;
  unsigned block = 0;
  struct pollfd pfd = {fd, POLLIN | POLLERR, 0};
  while (n < count) {
    struct tpacket_block_desc *bd = (void *)(map + (size_t)block * req.tp_block_size);
    if ((__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER) == 0) {
      int r = poll(&pfd, 1, n == 0 ? 10000 : idle_ms);
      if (r == 0) break;  // idle: the sender is done
      continue;
    }
    uint8_t *p = (uint8_t *)bd + bd->hdr.bh1.offset_to_first_pkt;
    for (unsigned i = 0; i < bd->hdr.bh1.num_pkts; i++) {
      struct tpacket3_hdr *h = (void *)p;
      if (ours(p + h->tp_mac, h->tp_snaplen)) {
        if (n == 0) first = now_s();
        n++;
      }
      p += h->tp_next_offset;
    }
    last = now_s();
    __atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
    block = (block + 1) % req.tp_block_nr;
  }
  struct tpacket_stats_v3 st = {0};
  socklen_t sl = sizeof st;
  getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &sl);
  report("c af_packet rx", n, first, last, st.tp_drops);
  return 0;
}

static int tx(const char *ifname, uint64_t count, uint32_t size) {
  struct tpacket_req3 req = {0};
  req.tp_block_size = 4096;
  req.tp_frame_size = 2048;
  req.tp_frame_nr = 1024;
  req.tp_block_nr = 512;
  uint8_t *map; size_t len;
  int fd = open_sock(ifname, 0, &req, 1, &map, &len);
  const uint32_t nr = req.tp_frame_nr, off = TPACKET3_HDRLEN - sizeof(struct sockaddr_ll);
  printf("{\"event\":\"ready\"}\n");
  fflush(stdout);
  cpu_at_ready = cpu_s();
  uint64_t queued = 0, done = 0;
  uint32_t head = 0, tail = 0, inflight = 0;
  double first = now_s(), last = first;
  while (done < count) {
    // reap
    while (inflight > 0) {
      struct tpacket3_hdr *h = (void *)(map + (size_t)tail * req.tp_frame_size);
      if (__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) != TP_STATUS_AVAILABLE) break;
      tail = (tail + 1) % nr;
      inflight--;
      done++;
    }
    uint32_t batch = 0;
    while (queued < count && inflight < nr && batch < 64) {
      struct tpacket3_hdr *h = (void *)(map + (size_t)head * req.tp_frame_size);
      fill_frame((uint8_t *)h + off, size, (uint32_t)queued);
      h->tp_len = h->tp_snaplen = size;
      h->tp_next_offset = 0;
      __atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
      head = (head + 1) % nr;
      inflight++;
      queued++;
      batch++;
    }
    if (sendto(fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 && errno != EAGAIN && errno != ENOBUFS) {
      perror("sendto"); exit(1);
    }
    last = now_s();
    if (last - first > 30) break;
  }
  report("c af_packet tx", done, first, last, 0);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 4 && strcmp(argv[1], "rx") == 0) return rx(argv[2], strtoull(argv[3], 0, 10), argc > 4 ? atoi(argv[4]) : 500);
  if (argc >= 5 && strcmp(argv[1], "tx") == 0) return tx(argv[2], strtoull(argv[3], 0, 10), atoi(argv[4]));
  fprintf(stderr, "usage: afpacket rx IFACE COUNT [IDLE_MS] | tx IFACE COUNT SIZE\n");
  return 2;
}
