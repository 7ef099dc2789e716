// C reference for the af_xdp paths, same kernel path and geometry as @x/nethuns's defaults (copy mode, 4096 x 4096
// UMEM, 2048-entry rings, the same 6-instruction XSKMAP program attached with a bpf_link):
//   afxdp rx IFACE QUEUE COUNT skb|drv [IDLE_MS]
//   afxdp tx IFACE QUEUE COUNT SIZE
#include <errno.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common.h"

#define NFRAMES 4096
#define FSIZE 4096
#define RING 2048

struct ring {
  uint32_t *prod, *cons, *flags;
  void *desc;
  uint32_t mask, size, cprod, ccons;
};

static void map_ring(int fd, struct xdp_ring_offset *o, uint32_t n, size_t entry, off_t pgoff, struct ring *r, int producer) {
  void *m = mmap(NULL, o->desc + n * entry, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, pgoff);
  if (m == MAP_FAILED) { perror("mmap ring"); exit(1); }
  r->prod = (uint32_t *)((char *)m + o->producer);
  r->cons = (uint32_t *)((char *)m + o->consumer);
  r->flags = (uint32_t *)((char *)m + o->flags);
  r->desc = (char *)m + o->desc;
  r->size = n;
  r->mask = n - 1;
  r->cprod = *r->prod;
  r->ccons = *r->cons + (producer ? n : 0);
}

static uint32_t prod_free(struct ring *r, uint32_t n) {
  uint32_t f = r->ccons - r->cprod;
  if (f < n) { r->ccons = __atomic_load_n(r->cons, __ATOMIC_ACQUIRE) + r->size; f = r->ccons - r->cprod; }
  return f < n ? f : n;
}
static uint32_t cons_avail(struct ring *r, uint32_t n) {
  uint32_t a = r->cprod - r->ccons;
  if (a == 0) { r->cprod = __atomic_load_n(r->prod, __ATOMIC_ACQUIRE); a = r->cprod - r->ccons; }
  return a < n ? a : n;
}

static long bpf(int cmd, union bpf_attr *a) { return syscall(__NR_bpf, cmd, a, sizeof *a); }

static int xsk_open(uint8_t **umem, struct ring *fq, struct ring *cq, struct ring *rx, struct ring *tx, int want_rx) {
  int fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (fd < 0) { perror("socket(AF_XDP)"); exit(1); }
  if (posix_memalign((void **)umem, 4096, (size_t)NFRAMES * FSIZE)) exit(1);
  memset(*umem, 0, (size_t)NFRAMES * FSIZE);
  struct xdp_umem_reg reg;
  memset(&reg, 0, sizeof reg);
  reg.addr = (uint64_t)(uintptr_t)*umem;
  reg.len = (uint64_t)NFRAMES * FSIZE;
  reg.chunk_size = FSIZE;
  if (setsockopt(fd, SOL_XDP, XDP_UMEM_REG, &reg, sizeof reg) < 0) { perror("XDP_UMEM_REG"); exit(1); }
  uint32_t n = RING;
  setsockopt(fd, SOL_XDP, XDP_UMEM_FILL_RING, &n, 4);
  setsockopt(fd, SOL_XDP, XDP_UMEM_COMPLETION_RING, &n, 4);
  if (want_rx) setsockopt(fd, SOL_XDP, XDP_RX_RING, &n, 4);
  else setsockopt(fd, SOL_XDP, XDP_TX_RING, &n, 4);
  uint32_t budget = RING;
  setsockopt(fd, SOL_XDP, 9 /* XDP_MAX_TX_SKB_BUDGET */, &budget, 4);
  struct xdp_mmap_offsets off;
  socklen_t ol = sizeof off;
  if (getsockopt(fd, SOL_XDP, XDP_MMAP_OFFSETS, &off, &ol) < 0) { perror("XDP_MMAP_OFFSETS"); exit(1); }
  map_ring(fd, &off.fr, RING, 8, XDP_UMEM_PGOFF_FILL_RING, fq, 1);
  map_ring(fd, &off.cr, RING, 8, XDP_UMEM_PGOFF_COMPLETION_RING, cq, 0);
  if (want_rx) map_ring(fd, &off.rx, RING, sizeof(struct xdp_desc), XDP_PGOFF_RX_RING, rx, 0);
  else map_ring(fd, &off.tx, RING, sizeof(struct xdp_desc), XDP_PGOFF_TX_RING, tx, 1);
  return fd;
}

static void bind_xsk(int fd, int ifindex, int queue) {
  struct sockaddr_xdp sx = {0};
  sx.sxdp_family = AF_XDP;
  sx.sxdp_ifindex = ifindex;
  sx.sxdp_queue_id = queue;
  sx.sxdp_flags = XDP_COPY;
  for (int i = 0; i < 60; i++) {
    if (bind(fd, (struct sockaddr *)&sx, sizeof sx) == 0) return;
    if (errno != EBUSY) break;
    usleep(50000);
  }
  perror("bind(AF_XDP)");
  exit(1);
}

static int attach_prog(int ifindex, int queue, int xsk, int drv) {
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.map_type = BPF_MAP_TYPE_XSKMAP;
  a.key_size = a.value_size = 4;
  a.max_entries = queue + 1;
  int map = bpf(BPF_MAP_CREATE, &a);
  if (map < 0) { perror("BPF_MAP_CREATE"); exit(1); }
  uint8_t insns[48] = {0x61, 0x12, 0x10, 0, 0, 0, 0, 0, 0x18, 0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                       0xb7, 0x03, 0, 0, 2, 0, 0, 0, 0x85, 0, 0, 0, 0x33, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0};
  memcpy(insns + 12, &map, 4);
  memset(&a, 0, sizeof a);
  a.prog_type = BPF_PROG_TYPE_XDP;
  a.insn_cnt = 6;
  a.insns = (uint64_t)(uintptr_t)insns;
  a.license = (uint64_t)(uintptr_t) "GPL";
  a.expected_attach_type = BPF_XDP;
  int prog = bpf(BPF_PROG_LOAD, &a);
  if (prog < 0) { perror("BPF_PROG_LOAD"); exit(1); }
  memset(&a, 0, sizeof a);
  a.link_create.prog_fd = prog;
  a.link_create.target_ifindex = ifindex;
  a.link_create.attach_type = BPF_XDP;
  a.link_create.flags = drv ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
  int link = bpf(BPF_LINK_CREATE, &a);
  if (link < 0) { perror("BPF_LINK_CREATE"); exit(1); }
  uint32_t key = queue, val = xsk;
  memset(&a, 0, sizeof a);
  a.map_fd = map;
  a.key = (uint64_t)(uintptr_t)&key;
  a.value = (uint64_t)(uintptr_t)&val;
  if (bpf(BPF_MAP_UPDATE_ELEM, &a) < 0) { perror("BPF_MAP_UPDATE_ELEM"); exit(1); }
  return link;
}

static int rx(const char *ifname, int queue, uint64_t count, int drv, int idle_ms) {
  uint8_t *umem;
  struct ring fq, cq, rxr, txr;
  int fd = xsk_open(&umem, &fq, &cq, &rxr, &txr, 1);
  int ifindex = if_nametoindex(ifname);
  uint32_t n0 = prod_free(&fq, RING);
  for (uint32_t i = 0; i < n0; i++) ((uint64_t *)fq.desc)[(fq.cprod++) & fq.mask] = (uint64_t)i * FSIZE;
  __atomic_store_n(fq.prod, fq.cprod, __ATOMIC_RELEASE);
  bind_xsk(fd, ifindex, queue);
  attach_prog(ifindex, queue, fd, drv);
  printf("{\"event\":\"ready\"}\n");
  fflush(stdout);
  cpu_at_ready = cpu_s();
  uint64_t n = 0;
  double first = 0, last = 0;
  struct pollfd pfd = {fd, POLLIN, 0};
  while (n < count) {
    uint32_t k = cons_avail(&rxr, 64);
    if (k == 0) {
      if (poll(&pfd, 1, n == 0 ? 10000 : idle_ms) == 0) break;
      continue;
    }
    uint32_t f = prod_free(&fq, k);  // every frame goes straight back to the fill ring
    for (uint32_t i = 0; i < k; i++) {
      struct xdp_desc *d = (struct xdp_desc *)rxr.desc + ((rxr.ccons + i) & rxr.mask);
      if (ours(umem + d->addr, d->len)) {
        if (n == 0) first = now_s();
        n++;
      }
      if (i < f) ((uint64_t *)fq.desc)[(fq.cprod++) & fq.mask] = d->addr & ~(uint64_t)(FSIZE - 1);
    }
    rxr.ccons += k;
    __atomic_store_n(rxr.cons, rxr.ccons, __ATOMIC_RELEASE);
    __atomic_store_n(fq.prod, fq.cprod, __ATOMIC_RELEASE);
    last = now_s();
  }
  struct xdp_statistics st;
  socklen_t sl = sizeof st;
  memset(&st, 0, sizeof st);
  getsockopt(fd, SOL_XDP, XDP_STATISTICS, &st, &sl);
  report(drv ? "c af_xdp rx drv" : "c af_xdp rx skb", n, first, last, st.rx_dropped + st.rx_ring_full);
  return 0;
}

static int tx(const char *ifname, int queue, uint64_t count, uint32_t size) {
  uint8_t *umem;
  struct ring fq, cq, rxr, txr;
  int fd = xsk_open(&umem, &fq, &cq, &rxr, &txr, 0);
  bind_xsk(fd, if_nametoindex(ifname), queue);
  for (uint32_t i = 0; i < RING; i++) fill_frame(umem + (size_t)i * FSIZE, size, i);
  printf("{\"event\":\"ready\"}\n");
  fflush(stdout);
  cpu_at_ready = cpu_s();
  uint64_t queued = 0, done = 0;
  uint32_t next = 0;
  double first = now_s(), last = first;
  while (done < count) {
    uint32_t k = prod_free(&txr, 64);
    if (queued + k > count) k = (uint32_t)(count - queued);
    for (uint32_t i = 0; i < k; i++) {
      struct xdp_desc *d = (struct xdp_desc *)txr.desc + ((txr.cprod++) & txr.mask);
      d->addr = (uint64_t)(next++ % RING) * FSIZE;
      d->len = size;
      d->options = 0;
    }
    queued += k;
    if (k > 0) __atomic_store_n(txr.prod, txr.cprod, __ATOMIC_RELEASE);
    if (sendto(fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 && errno != EAGAIN && errno != EBUSY && errno != ENOBUFS) {
      perror("sendto"); exit(1);
    }
    uint32_t c = cons_avail(&cq, RING);
    if (c > 0) {
      cq.ccons += c;
      __atomic_store_n(cq.cons, cq.ccons, __ATOMIC_RELEASE);
      done += c;
    }
    last = now_s();
    if (last - first > 30) break;
  }
  report("c af_xdp tx", done, first, last, 0);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 6 && strcmp(argv[1], "rx") == 0)
    return rx(argv[2], atoi(argv[3]), strtoull(argv[4], 0, 10), strcmp(argv[5], "drv") == 0, argc > 6 ? atoi(argv[6]) : 500);
  if (argc >= 6 && strcmp(argv[1], "tx") == 0) return tx(argv[2], atoi(argv[3]), strtoull(argv[4], 0, 10), atoi(argv[5]));
  fprintf(stderr, "usage: afxdp rx IFACE QUEUE COUNT skb|drv [IDLE_MS] | tx IFACE QUEUE COUNT SIZE\n");
  return 2;
}
