// Reference for bench/yields.mjs: the floor of the emulated device's yield — an 8-byte request and an 8-byte reply
// over an AF_UNIX SOCK_SEQPACKET pair between two processes, blocking send/recv, nothing else.
// Usage: seqpacket_pingpong N → prints round trips per second.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 200000;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return perror("socketpair"), 1;
  pid_t pid = fork();
  if (pid == 0) {  // the host: answer every request
    uint64_t w;
    close(sv[0]);
    while (recv(sv[1], &w, sizeof w, 0) == sizeof w) {
      w = (1ULL << 32);
      if (send(sv[1], &w, sizeof w, 0) != sizeof w) break;
    }
    _exit(0);
  }
  close(sv[1]);
  struct timespec a, b;
  uint64_t w = 0x0201004300000000ULL;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < n; i++) {
    if (send(sv[0], &w, sizeof w, 0) != sizeof w || recv(sv[0], &w, sizeof w, 0) != sizeof w) return perror("io"), 1;
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  close(sv[0]);
  waitpid(pid, NULL, 0);
  double s = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
  printf("%.0f\n", n / s);
  return 0;
}
