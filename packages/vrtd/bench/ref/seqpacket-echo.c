// The reference for bench/rpc.mjs: a SOCK_SEQPACKET request/reply loop in plain C, with vrtd's message sizes
// (a 9-byte GET_NUM_DEVICES request, a 12-byte reply echoing its seqno).
//   seqpacket-echo server PATH            epoll loop, non-blocking sockets, replies at once (as vrtd's loop does)
//   seqpacket-echo rt PATH N              one client, one request in flight: mean round trip in µs (blocking
//                                         send + recv, as libvrtd does)
//   seqpacket-echo rt-epoll PATH N        the same with a non-blocking socket and epoll_wait before each recv, as an
//                                         event-loop client (libuv, @x/vrtd's async Connection) does
//   seqpacket-echo rate PATH N CLIENTS W  CLIENTS connections, W requests in flight each: requests/s
//   seqpacket-echo client PATH            reads commands from stdin, one result line each, so a benchmark can
//                                         interleave short runs with its own: "rt N", "rt-epoll N",
//                                         "rate N CLIENTS W" (every run on fresh connections)
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void die(const char *what) {
  perror(what);
  exit(1);
}

static struct sockaddr_un addr_of(const char *path) {
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof a.sun_path) {
    fprintf(stderr, "path too long\n");
    exit(1);
  }
  strcpy(a.sun_path, path);
  return a;
}

static int connect_to(const char *path) {
  struct sockaddr_un a = addr_of(path);
  int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (s < 0) die("socket");
  if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) die("connect");
  return s;
}

static void make_request(uint8_t *b, uint32_t seq) {
  b[0] = 1, b[1] = 0, b[2] = 0, b[3] = 0;  // size 1, opcode 0 (GET_NUM_DEVICES)
  memcpy(b + 4, &seq, 4);
  b[8] = 0;
}

static int server(const char *path) {
  struct sockaddr_un a = addr_of(path);
  unlink(path);
  int l = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (l < 0) die("socket");
  if (bind(l, (struct sockaddr *)&a, sizeof a) < 0) die("bind");
  if (listen(l, 4096) < 0) die("listen");
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = l};
  epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
  printf("ready\n");
  fflush(stdout);
  uint8_t in[4096], out[12];
  struct epoll_event evs[64];
  for (;;) {
    int n = epoll_wait(ep, evs, 64, -1);
    if (n < 0 && errno == EINTR) continue;
    for (int i = 0; i < n; i++) {
      int fd = evs[i].data.fd;
      if (fd == l) {
        int c;
        while ((c = accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
          struct epoll_event e = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = c};
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &e);
        }
        continue;
      }
      for (int k = 0; k < 64; k++) {
        ssize_t r = recv(fd, in, sizeof in, 0);
        if (r < 0 && errno == EAGAIN) break;
        if (r <= 0) {
          close(fd);
          break;
        }
        // reply: size 4, ret 0, the request's seqno, u32 body
        out[0] = 4, out[1] = 0, out[2] = 0, out[3] = 0;
        memcpy(out + 4, in + 4, 4);
        out[8] = 1, out[9] = 0, out[10] = 0, out[11] = 0;
        if (send(fd, out, sizeof out, MSG_NOSIGNAL) < 0) {
          close(fd);
          break;
        }
      }
    }
  }
  return 0;
}

static int rt(const char *path, long n) {
  int s = connect_to(path);
  uint8_t req[9], rep[4160];
  for (long i = 0; i < n / 10 + 200; i++) {  // warm up
    make_request(req, (uint32_t)i + 1);
    send(s, req, 9, 0);
    recv(s, rep, sizeof rep, 0);
  }
  double t = now();
  for (long i = 0; i < n; i++) {
    make_request(req, (uint32_t)i + 1);
    if (send(s, req, 9, 0) != 9) die("send");
    if (recv(s, rep, sizeof rep, 0) != 12) die("recv");
  }
  t = now() - t;
  printf("%.3f\n", t / (double)n * 1e6);
  close(s);
  return 0;
}

static int rt_epoll(const char *path, long n) {
  int s = connect_to(path);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event e = {.events = EPOLLIN, .data.fd = s};
  epoll_ctl(ep, EPOLL_CTL_ADD, s, &e);
  uint8_t req[9], rep[4160];
  struct epoll_event evs[8];
  double t = 0;
  long warm = n / 10 + 200;
  for (long i = 0; i < n + warm; i++) {
    if (i == warm) t = now();
    make_request(req, (uint32_t)i + 1);
    if (send(s, req, 9, 0) != 9) die("send");
    for (;;) {
      if (epoll_wait(ep, evs, 8, -1) < 0) die("epoll_wait");
      if (recv(s, rep, sizeof rep, MSG_DONTWAIT) == 12) break;
    }
  }
  t = now() - t;
  printf("%.3f\n", t / (double)n * 1e6);
  close(s);
  close(ep);
  return 0;
}

static int rate(const char *path, long n, int clients, int window) {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  int *socks = calloc((size_t)clients, sizeof(int));
  uint8_t req[9], rep[4160];
  long sent = 0, done = 0;
  for (int c = 0; c < clients; c++) {
    socks[c] = connect_to(path);
    struct epoll_event e = {.events = EPOLLIN, .data.fd = socks[c]};
    epoll_ctl(ep, EPOLL_CTL_ADD, socks[c], &e);
  }
  double t = now();
  for (int c = 0; c < clients; c++)
    for (int w = 0; w < window && sent < n; w++) {
      make_request(req, (uint32_t)++sent);
      send(socks[c], req, 9, 0);
    }
  struct epoll_event evs[64];
  while (done < n) {
    int k = epoll_wait(ep, evs, 64, -1);
    for (int i = 0; i < k; i++) {
      int fd = evs[i].data.fd;
      while (recv(fd, rep, sizeof rep, MSG_DONTWAIT) > 0) {
        done++;
        if (sent < n) {
          make_request(req, (uint32_t)++sent);
          send(fd, req, 9, 0);
        }
      }
    }
  }
  t = now() - t;
  printf("%.0f\n", (double)n / t);
  for (int c = 0; c < clients; c++) close(socks[c]);
  free(socks);
  close(ep);
  return 0;
}

static int client(const char *path) {
  char line[256];
  setvbuf(stdout, NULL, _IOLBF, 0);
  while (fgets(line, sizeof line, stdin)) {
    char cmd[32];
    long n = 0;
    int clients = 1, window = 1;
    if (sscanf(line, "%31s %ld %d %d", cmd, &n, &clients, &window) < 2) continue;
    if (strcmp(cmd, "rt") == 0) rt(path, n);
    else if (strcmp(cmd, "rt-epoll") == 0) rt_epoll(path, n);
    else if (strcmp(cmd, "rate") == 0) rate(path, n, clients, window);
    else printf("?\n");
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 3 && strcmp(argv[1], "server") == 0) return server(argv[2]);
  if (argc >= 3 && strcmp(argv[1], "client") == 0) return client(argv[2]);
  if (argc >= 4 && strcmp(argv[1], "rt") == 0) return rt(argv[2], atol(argv[3]));
  if (argc >= 4 && strcmp(argv[1], "rt-epoll") == 0) return rt_epoll(argv[2], atol(argv[3]));
  if (argc >= 6 && strcmp(argv[1], "rate") == 0) return rate(argv[2], atol(argv[3]), atoi(argv[4]), atoi(argv[5]));
  fprintf(stderr, "usage: seqpacket-echo server PATH | client PATH | rt PATH N | rt-epoll PATH N | rate PATH N CLIENTS WINDOW\n");
  return 2;
}
