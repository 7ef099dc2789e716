// pipe_ref.c: the C reference for bench/pipe.mjs. Maps the same /dev/shm pipe region @x/netmap built and moves the
// same packets through it (a full payload copy and a sequence number each) with the kernel's pipe txsync/rxsync
// (no prologue checks, busy-polling), master TX ring 0
// → slave RX ring 0, one thread each. usage: pipe_ref PATH COUNT SIZE BATCH → prints "Mpps mismatches".
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct slot { uint32_t buf_idx; uint16_t len; uint16_t flags; uint64_t ptr; };
enum { HWCUR, HWTAIL, RHEAD, RCUR, RTAIL, PIPE_TAIL };
static uint8_t *mem;
static uint32_t n, bufsz, nrings;
static uint8_t *base, *bufs;
static uint64_t count, size, batch;
static uint64_t mismatches;

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
      memcpy(b, tpl, size); // the same full payload copy the JS sender does
      memcpy(b, &v, 4);
      s->len = (uint16_t)size; s->flags = 0;
      head = head + 1 == n ? 0 : head + 1;
    }
    HEAD(tr) = head;
    // txsync
    st[HWTAIL] = __atomic_load_n(&st[PIPE_TAIL], __ATOMIC_ACQUIRE);
    uint32_t k = st[HWCUR];
    while (k != head) { *SLOT(rr, k) = *SLOT(tr, k); k = k + 1 == n ? 0 : k + 1; }
    st[HWCUR] = k;
    __atomic_store_n(&pst[PIPE_TAIL], k, __ATOMIC_RELEASE);
    TAIL(tr) = st[HWTAIL];
  }
  return NULL;
}

static void *rxf(void *arg) {
  (void)arg;
  uint8_t *rr = ring(1, 0), *tr = ring(0, 1);
  int32_t *st = kst(1, 0), *pst = kst(0, 1);
  (void)tr;
  uint64_t expect = 0;
  while (expect < count) {
    uint32_t head = HEAD(rr);
    // rxsync: release [hwcur, head), then see what arrived
    uint32_t k = head;
    if ((uint32_t)st[HWCUR] != head) {
      __atomic_store_n(&pst[PIPE_TAIL], k == 0 ? n - 1 : k - 1, __ATOMIC_RELEASE);
      st[HWCUR] = k;
    }
    uint32_t tail = __atomic_load_n(&st[PIPE_TAIL], __ATOMIC_ACQUIRE);
    st[HWTAIL] = tail;
    TAIL(rr) = tail;
    uint64_t got = 0;
    while (head != tail && got < batch) {
      struct slot *s = SLOT(rr, head);
      uint32_t v; memcpy(&v, bufs + (uint64_t)s->buf_idx * bufsz, 4);
      if (v != (uint32_t)expect || s->len != size) mismatches++;
      expect++; got++;
      head = head + 1 == n ? 0 : head + 1;
    }
    HEAD(rr) = head;
  }
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
  nrings = *(uint32_t *)(mem + 16); n = *(uint32_t *)(mem + 20); bufsz = *(uint32_t *)(mem + 24);
  base = mem + *(uint32_t *)(mem + 32);
  bufs = base + *(uint32_t *)(mem + 36) + *(uint32_t *)(mem + 40);
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  pthread_t t1, t2;
  pthread_create(&t2, NULL, rxf, NULL);
  pthread_create(&t1, NULL, txf, NULL);
  pthread_join(t1, NULL); pthread_join(t2, NULL);
  clock_gettime(CLOCK_MONOTONIC, &b);
  double s = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
  printf("%.3f %llu\n", count / s / 1e6, (unsigned long long)mismatches);
  return 0;
}
