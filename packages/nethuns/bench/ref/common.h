// Shared by the C reference loops: clock, JSON result line, frame filling.
#pragma once
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static inline double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

// 0x88B5 frames: what the benchmarks count (trafgen and the Node senders use the same layout).
static inline int ours(const uint8_t *p, uint32_t len) { return len >= 14 && p[12] == 0x88 && p[13] == 0xb5; }

static inline void fill_frame(uint8_t *p, uint32_t size, uint32_t seq) {
  memset(p, 0xff, 6);
  const uint8_t src[6] = {0x02, 0, 0, 0, 0, 1};
  memcpy(p + 6, src, 6);
  p[12] = 0x88;
  p[13] = 0xb5;
  memset(p + 14, 0, size - 14);
  if (size >= 18) memcpy(p + 14, &seq, 4);
}

// CPU time (user + system) this process used so far, in seconds.
static inline double cpu_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static double cpu_at_ready;

static inline void report(const char *what, uint64_t n, double first, double last, uint64_t drops) {
  double secs = last > first ? last - first : 0;
  double cpu = cpu_s() - cpu_at_ready;
  printf("{\"what\":\"%s\",\"packets\":%llu,\"secs\":%.6f,\"pps\":%.0f,\"drops\":%llu,\"cpuNs\":%.0f}\n", what,
         (unsigned long long)n, secs, secs > 0 ? (n > 1 ? (n - 1) / secs : 0) : 0, (unsigned long long)drops,
         n > 0 ? cpu * 1e9 / n : 0);
  fflush(stdout);
}
