// The emulated device's round trips on its AF_UNIX SOCK_SEQPACKET socket, blocking the calling thread the way the
// kernel's YIELD ioctl does (poll(2), then recv; EINTR retried). The socket itself is created, connected and owned by
// TypeScript (@x/native); it may be non-blocking (an FdWatcher sets O_NONBLOCK): these calls never rely on the mode.
//
// Wire (see src/protocol.ts): a yield is one 8-byte message (the u64 word, little-endian) each way; a 4-byte message
// from the host is a u32 status (an errno) that ends the session.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "binding.h"

namespace xcmio {

// Waits for events on fd; timeout_ms < 0 waits forever. 0 when ready, -errno otherwise (-ETIMEDOUT on timeout).
static int WaitFor(int fd, short events, int timeout_ms) {
  pollfd p{fd, events, 0};
  for (;;) {
    int r = ::poll(&p, 1, timeout_ms);
    if (r > 0) return 0;  // ready, or POLLHUP/POLLERR: the next call reports it
    if (r == 0) return -ETIMEDOUT;
    if (errno != EINTR) return -errno;
  }
}

// With timeout_ms < 0 the first attempt may block in the syscall itself (a blocking fd: one syscall per call, as
// libcmt's host mode does); a non-blocking fd answers EAGAIN and we poll. With a timeout, poll bounds the wait.
static int SendAll(int fd, const void *data, size_t len, int timeout_ms) {
  int dontwait = timeout_ms < 0 ? 0 : MSG_DONTWAIT;
  for (;;) {
    ssize_t n = ::send(fd, data, len, MSG_NOSIGNAL | dontwait);
    if (n >= 0) return static_cast<size_t>(n) == len ? 0 : -EMSGSIZE;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return -errno;
    int w = WaitFor(fd, POLLOUT, timeout_ms);
    if (w < 0) return w;
  }
}

// One message into buf (≤ cap bytes) with up to nfds fds (MSG_CMSG_CLOEXEC); blocks up to timeout_ms.
// Returns the length, or -errno (-EMSGSIZE when fds or data did not fit: the fds that came are closed).
static ssize_t RecvOne(int fd, void *buf, size_t cap, int *fds, size_t nfds, size_t *got, int timeout_ms) {
  *got = 0;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)];
  if (nfds > 4) nfds = 4;
  bool first = timeout_ms < 0;
  for (;;) {
    if (!first) {
      int w = WaitFor(fd, POLLIN, timeout_ms);
      if (w < 0) return w;
    }
    iovec iov{buf, cap};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (nfds > 0) {
      msg.msg_control = control;
      msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
    }
    ssize_t n = ::recvmsg(fd, &msg, MSG_CMSG_CLOEXEC | (first ? 0 : MSG_DONTWAIT));
    first = false;
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;  // not yet: poll
      return -errno;
    }
    size_t k = x::TakeRights(msg, fds, nfds);  // more than nfds fds, or cut control data: all closed, MSG_CTRUNC
    if ((msg.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) != 0) {
      for (size_t i = 0; i < k; i++) ::close(fds[i]);
      return -EMSGSIZE;
    }
    *got = k;
    return n;
  }
}

// cmio_emu_call(fd, req, reqOff, reqLen, reply, repOff, repLen, fdsOut, timeoutMs) → reply bytes or -errno.
// Sends req as one message and waits (≤ timeoutMs, < 0 forever) for one reply with up to fdsOut.length fds;
// fdsOut gets the fds (owned by the caller) and -1 in the unused slots.
static Napi::Value Call(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = x::IntArg(info, 0);
  x::Bytes req = x::WindowOf(env, info[1], x::Int64Arg(info, 2), x::Int64Arg(info, 3));
  x::Bytes rep = x::WindowOf(env, info[4], x::Int64Arg(info, 5), x::Int64Arg(info, 6));
  if (!info[7].IsTypedArray() || info[7].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    throw Napi::TypeError::New(env, "fdsOut must be an Int32Array");
  }
  Napi::Int32Array fdsOut = info[7].As<Napi::Int32Array>();
  int timeout = x::IntArg(info, 8);
  for (size_t i = 0; i < fdsOut.ElementLength(); i++) fdsOut[i] = -1;
  int s = SendAll(fd, req.data, req.length, timeout);
  if (s < 0) return Napi::Number::New(env, s);
  int fds[4];
  size_t got = 0;
  ssize_t n = RecvOne(fd, rep.data, rep.length, fds, fdsOut.ElementLength(), &got, timeout);
  if (n < 0) return Napi::Number::New(env, static_cast<double>(n));
  for (size_t i = 0; i < got; i++) fdsOut[i] = fds[i];
  return Napi::Number::New(env, static_cast<double>(n));
}

// cmio_emu_yield(fd, word) → 0 or -errno; word[0] is the request on entry and the reply on return.
// A 4-byte status message from the host ends the session: its errno is returned (EIO if it says 0);
// the host's close (a 0-byte read) is -ECONNRESET.
static Napi::Value Yield(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = x::IntArg(info, 0);
  uint64_t *word = WordArg(info, 1);
  uint8_t msg[8];
  uint64_t w = *word;
  for (int i = 0; i < 8; i++) msg[i] = static_cast<uint8_t>(w >> (8 * i));  // little-endian on the wire
  int s = SendAll(fd, msg, sizeof msg, -1);
  if (s < 0) return Napi::Number::New(env, s == -EPIPE ? -ECONNRESET : s);
  uint8_t in[16];
  size_t got = 0;
  ssize_t n = RecvOne(fd, in, sizeof in, nullptr, 0, &got, -1);
  if (n < 0) return Napi::Number::New(env, static_cast<double>(n));
  if (n == 8) {
    uint64_t r = 0;
    for (int i = 0; i < 8; i++) r |= static_cast<uint64_t>(in[i]) << (8 * i);
    *word = r;
    return Napi::Number::New(env, 0);
  }
  if (n == 0) return Napi::Number::New(env, -ECONNRESET);
  if (n == 4) {
    uint32_t st = static_cast<uint32_t>(in[0]) | static_cast<uint32_t>(in[1]) << 8 |
                  static_cast<uint32_t>(in[2]) << 16 | static_cast<uint32_t>(in[3]) << 24;
    return Napi::Number::New(env, st == 0 || st > 4095 ? -EIO : -static_cast<double>(st));
  }
  return Napi::Number::New(env, -EPROTO);
}

void InitEmulated(Napi::Env env, Napi::Object exports) {
  exports.Set("cmio_emu_call", Napi::Function::New(env, Call, "cmio_emu_call"));
  exports.Set("cmio_emu_yield", Napi::Function::New(env, Yield, "cmio_emu_yield"));
}

}  // namespace xcmio
