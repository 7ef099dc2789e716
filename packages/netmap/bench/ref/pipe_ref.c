// pipe_ref.c: the C reference for bench/pipe.mjs. Maps the same /dev/shm pipe region @x/netmap built and moves the
// same packets through it, master TX ring 0 → slave RX ring 0, one thread each, doing per packet and per sync what
// the JS side does: the sender writes the whole payload (template copy) and a sequence number into the slot's buffer
// and sets len/flags; the receiver checks the sequence number and the length. The syncs are the kernel's pipe
// txsync/rxsync as src/kring.ts ports them: the prologue's index checks, the slot descriptors copied into the linked
// ring, NS_BUF_CHANGED cleared and NS_MOREFRAG respected on TX, swapped buffers sent back on RX, the peer's need_kick
// read after each publish (no doorbell is ever needed: both threads busy-poll, which the JS side does not), and the
// RX ring timestamp. Built once per packet size (-DSIZE=60: the payload copy is a memcpy of a compile-time size, as
// the JS sender's writer is compiled for its template); timed, as the JS receivers are, from packet COUNT / 5 to the
// last one. usage: pipe_ref PATH COUNT SIZE BATCH → prints "Mpps mismatches".
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

struct slot { uint32_t buf_idx; uint16_t len; uint16_t flags; uint64_t ptr; };
enum { HWCUR, HWTAIL, RHEAD, RCUR, RTAIL, PIPE_TAIL };
enum { NS_BUF_CHANGED = 1, NS_MOREFRAG = 0x20 };
static volatile int32_t *kick; /* the header's need_kick words, one per endpoint */
static uint64_t kicks;
static uint8_t *mem;
static uint32_t n, bufsz, nrings;
static uint8_t *base, *bufs;
static uint64_t count, size, batch;
static uint64_t mismatches;
static struct timespec t_warm, t_end; /* the receiver's clock at packet count / 5 and at the last one */
#ifndef SIZE
#error "build with -DSIZE=<packet size>"
#endif

static uint8_t *ring(int e, int tx) {
  uint32_t ringsz = (256 + 16 * n + 127) / 128 * 128;
  uint32_t k = (e * 2 + (tx ? 0 : 1)) * nrings;
  return base + *(uint32_t *)(mem + 36) + k * ringsz;
}
static int32_t *kst(int e, int tx) {
  uint32_t k = (e * 2 + (tx ? 0 : 1)) * nrings;
  return (int32_t *)(mem + *(uint32_t *)(mem + 52) + k * 128);
}
#define HEAD(r) (*(volatile uint32_t *)((r) + 20))
#define TAIL(r) (*(volatile uint32_t *)((r) + 28))
#define SLOT(r, i) ((struct slot *)((r) + 256) + (i))
#define CUR(r) (*(volatile uint32_t *)((r) + 24))
static void fail(const char *what) { fprintf(stderr, "%s prologue failed\n", what); exit(1); }
/* nm_txsync_prologue / nm_rxsync_prologue's index checks (head and cur within the ring's window) */
static void check_window(const char *what, uint32_t lo, uint32_t hi, uint32_t head, uint32_t cur) {
  if (head >= n || cur >= n) fail(what);
  if (hi >= lo) { if (head < lo || head > hi || cur < head || cur > hi) fail(what); }
  else if ((head > hi && head < lo) || (head <= hi ? (cur < head || cur > hi) : (cur > hi && cur < head))) fail(what);
}

static void *txf(void *arg) {
  (void)arg;
  uint8_t *tr = ring(0, 1), *rr = ring(1, 0);
  int32_t *st = kst(0, 1), *pst = kst(1, 0);
  uint64_t seq = 0;
  uint8_t tpl[65536];
  for (unsigned i = 0; i < sizeof tpl; i++) tpl[i] = (uint8_t)i;
  while (seq < count) {
    uint32_t head = HEAD(tr), tail = TAIL(tr);
    int32_t space = (int32_t)tail - (int32_t)head; if (space < 0) space += n;
    uint64_t m = (uint64_t)space < batch ? (uint64_t)space : batch;
    if (m > count - seq) m = count - seq;
    for (uint64_t i = 0; i < m; i++) {
      struct slot *s = SLOT(tr, head);
      uint8_t *b = bufs + (uint64_t)s->buf_idx * bufsz;
      uint32_t v = (uint32_t)seq++;
      memcpy(b, tpl, SIZE); // the same full payload copy the JS sender does
      memcpy(b, &v, 4);
      s->len = (uint16_t)size; s->flags = 0;
      head = head + 1 == n ? 0 : head + 1;
    }
    HEAD(tr) = head; CUR(tr) = head;
    // txsync: prologue, copy [hwcur, head) into the linked RX ring, publish up to the last complete packet
    check_window("txsync", st[RHEAD], st[RTAIL], HEAD(tr), CUR(tr));
    st[RHEAD] = head; st[RCUR] = head;
    st[HWTAIL] = __atomic_load_n(&st[PIPE_TAIL], __ATOMIC_SEQ_CST);
    uint32_t k = st[HWCUR], nk = n;
    while (k != head) {
      struct slot *s = SLOT(tr, k);
      uint16_t fl = s->flags;
      *SLOT(rr, k) = *s;
      if (fl & NS_BUF_CHANGED) s->flags = fl & ~NS_BUF_CHANGED;
      k = k + 1 == n ? 0 : k + 1;
      if (!(fl & NS_MOREFRAG)) nk = k;
    }
    st[HWCUR] = k;
    if (nk < n) {
      __atomic_store_n(&pst[PIPE_TAIL], nk, __ATOMIC_SEQ_CST);
      if (kick[1]) { kick[1] = 0; kicks++; } /* the JS side rings the doorbell here */
    }
    st[RTAIL] = st[HWTAIL];
    TAIL(tr) = st[HWTAIL];
  }
  return NULL;
}

static void *rxf(void *arg) {
  uint8_t *rr = ring(1, 0), *tr = ring(0, 1);
  int32_t *st = kst(1, 0), *pst = kst(0, 1);
  uint64_t expect = 0, warm = count / 5;
  int warmed = 0;
  while (expect < count) {
    if (!warmed && expect >= warm) { clock_gettime(CLOCK_MONOTONIC, &t_warm); warm = expect; warmed = 1; }
    uint32_t head = HEAD(rr);
    // rxsync: prologue, release [hwcur, head) (a swapped buffer goes back to the TX ring), see what arrived
    check_window("rxsync", st[HWCUR], st[HWTAIL], head, CUR(rr));
    st[RHEAD] = head; st[RCUR] = head;
    uint32_t tail = __atomic_load_n(&st[PIPE_TAIL], __ATOMIC_SEQ_CST);
    st[HWTAIL] = tail;
    uint32_t k = st[HWCUR];
    if (k != head) {
      for (; k != head; k = k + 1 == n ? 0 : k + 1) {
        struct slot *s = SLOT(rr, k);
        if (s->flags & NS_BUF_CHANGED) { *SLOT(tr, k) = *s; s->flags &= ~NS_BUF_CHANGED; }
      }
      __atomic_store_n(&pst[PIPE_TAIL], k == 0 ? n - 1 : k - 1, __ATOMIC_SEQ_CST);
      st[HWCUR] = k;
      if (kick[0]) { kick[0] = 0; kicks++; }
    }
    st[RTAIL] = tail;
    TAIL(rr) = tail;
    struct timeval tv; gettimeofday(&tv, NULL); /* ring->ts, as the kernel's rxsync sets it */
    *(volatile int64_t *)(rr + 40) = tv.tv_sec; *(volatile int64_t *)(rr + 48) = tv.tv_usec;
    uint64_t got = 0;
    while (head != tail && got < batch) {
      struct slot *s = SLOT(rr, head);
      uint32_t v; memcpy(&v, bufs + (uint64_t)s->buf_idx * bufsz, 4);
      if (v != (uint32_t)expect || s->len != size) mismatches++;
      expect++; got++;
      head = head + 1 == n ? 0 : head + 1;
    }
    HEAD(rr) = head; CUR(rr) = head;
  }
  clock_gettime(CLOCK_MONOTONIC, &t_end);
  *(uint64_t *)arg = count - warm;
  uint32_t head = HEAD(rr);
  __atomic_store_n(&pst[PIPE_TAIL], head == 0 ? n - 1 : head - 1, __ATOMIC_RELEASE);
  st[HWCUR] = head;
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 5) { fprintf(stderr, "usage: pipe_ref PATH COUNT SIZE BATCH\n"); return 2; }
  int fd = open(argv[1], O_RDWR);
  if (fd < 0) { perror("open"); return 1; }
  struct stat sb; fstat(fd, &sb);
  mem = mmap(NULL, sb.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (mem == MAP_FAILED) { perror("mmap"); return 1; }
  count = strtoull(argv[2], 0, 10); size = strtoull(argv[3], 0, 10); batch = strtoull(argv[4], 0, 10);
  if (size != SIZE) { fprintf(stderr, "this binary moves %d-byte packets, not %llu\n", SIZE, (unsigned long long)size); return 2; }
  nrings = *(uint32_t *)(mem + 16); n = *(uint32_t *)(mem + 20); bufsz = *(uint32_t *)(mem + 24);
  base = mem + *(uint32_t *)(mem + 32);
  kick = (volatile int32_t *)(mem + 72);
  bufs = base + *(uint32_t *)(mem + 36) + *(uint32_t *)(mem + 40);
  pthread_t t1, t2;
  uint64_t timed = 0;
  pthread_create(&t2, NULL, rxf, &timed);
  pthread_create(&t1, NULL, txf, NULL);
  pthread_join(t1, NULL); pthread_join(t2, NULL);
  double s = (t_end.tv_sec - t_warm.tv_sec) + (t_end.tv_nsec - t_warm.tv_nsec) / 1e9;
  printf("%.3f %llu\n", timed / s / 1e6, (unsigned long long)mismatches);
  return 0;
}
