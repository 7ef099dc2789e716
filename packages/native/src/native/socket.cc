// Sockets Node cannot make: any domain/type (AF_UNIX SOCK_SEQPACKET, AF_PACKET, AF_XDP, AF_INET6 with scope),
// raw sockaddr bytes built in TypeScript, socket options by level/name, sendmsg/recvmsg with SCM_RIGHTS.
// Hot paths (send, recv, sendmsg, recvmsg, accept4, connect) return a count/fd or -errno; control calls throw.
#include <net/if.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "binding.h"

namespace xnative {

using x::ErrnoError;

static constexpr int kMaxFds = 253;  // SCM_MAX_FD

static Napi::Value Socket(const Napi::CallbackInfo &info) {
  int fd = ::socket(x::IntArg(info, 0), x::IntArg(info, 1), x::IntArg(info, 2));
  if (fd < 0) throw ErrnoError(info.Env(), errno, "socket");
  return Napi::Number::New(info.Env(), fd);
}

static Napi::Value Socketpair(const Napi::CallbackInfo &info) {
  int sv[2];
  if (::socketpair(x::IntArg(info, 0), x::IntArg(info, 1), x::IntArg(info, 2), sv) < 0) {
    throw ErrnoError(info.Env(), errno, "socketpair");
  }
  Napi::Array a = Napi::Array::New(info.Env(), 2);
  a.Set(0u, sv[0]);
  a.Set(1u, sv[1]);
  return a;
}

static Napi::Value Bind(const Napi::CallbackInfo &info) {
  int fd = x::IntArg(info, 0);
  x::Bytes a = x::WindowArg(info, 1);
  if (::bind(fd, reinterpret_cast<sockaddr *>(a.data), static_cast<socklen_t>(a.length)) < 0) {
    throw ErrnoError(info.Env(), errno, "bind");
  }
  return info.Env().Undefined();
}

// → 0, or -EINPROGRESS / -EAGAIN / -EALREADY on a non-blocking socket (wait for writable, then SO_ERROR).
static Napi::Value Connect(const Napi::CallbackInfo &info) {
  int fd = x::IntArg(info, 0);
  x::Bytes a = x::WindowArg(info, 1);
  int r;
  do r = ::connect(fd, reinterpret_cast<sockaddr *>(a.data), static_cast<socklen_t>(a.length));
  while (r < 0 && errno == EINTR);
  if (r < 0) {
    if (errno == EINPROGRESS || errno == EAGAIN || errno == EALREADY) return Napi::Number::New(info.Env(), -errno);
    throw ErrnoError(info.Env(), errno, "connect");
  }
  return Napi::Number::New(info.Env(), 0);
}

static Napi::Value Listen(const Napi::CallbackInfo &info) {
  if (::listen(x::IntArg(info, 0), x::IntArg(info, 1)) < 0) throw ErrnoError(info.Env(), errno, "listen");
  return info.Env().Undefined();
}

// accept4(fd, flags) → new fd, or -EAGAIN (and the other transient errors accept(2) lists) when none is pending.
static Napi::Value Accept4(const Napi::CallbackInfo &info) {
  int fd = x::IntArg(info, 0), flags = x::IntArg(info, 1);
  int r;
  do r = ::accept4(fd, nullptr, nullptr, flags); while (r < 0 && errno == EINTR);
  if (r < 0) {
    int e = errno;
    if (e == EAGAIN || e == ECONNABORTED || e == EPROTO || e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
      return Napi::Number::New(info.Env(), -e);
    }
    throw ErrnoError(info.Env(), e, "accept4");
  }
  return Napi::Number::New(info.Env(), r);
}

static Napi::Value Shutdown(const Napi::CallbackInfo &info) {
  if (::shutdown(x::IntArg(info, 0), x::IntArg(info, 1)) < 0) throw ErrnoError(info.Env(), errno, "shutdown");
  return info.Env().Undefined();
}

// get{sock,peer}name(fd, view, offset, length) → the address length written.
template <int (*F)(int, sockaddr *, socklen_t *)>
static Napi::Value GetName(const Napi::CallbackInfo &info, const char *syscall) {
  int fd = x::IntArg(info, 0);
  x::Bytes a = x::WindowArg(info, 1);
  socklen_t len = static_cast<socklen_t>(a.length);
  if (F(fd, reinterpret_cast<sockaddr *>(a.data), &len) < 0) throw ErrnoError(info.Env(), errno, syscall);
  return Napi::Number::New(info.Env(), len);
}
static Napi::Value Getsockname(const Napi::CallbackInfo &info) { return GetName<::getsockname>(info, "getsockname"); }
static Napi::Value Getpeername(const Napi::CallbackInfo &info) { return GetName<::getpeername>(info, "getpeername"); }

static Napi::Value SetsockoptInt(const Napi::CallbackInfo &info) {
  int v = x::IntArg(info, 3);
  if (::setsockopt(x::IntArg(info, 0), x::IntArg(info, 1), x::IntArg(info, 2), &v, sizeof v) < 0) {
    throw ErrnoError(info.Env(), errno, "setsockopt");
  }
  return info.Env().Undefined();
}

static Napi::Value Setsockopt(const Napi::CallbackInfo &info) {
  x::Bytes b = x::WindowArg(info, 3);
  if (::setsockopt(x::IntArg(info, 0), x::IntArg(info, 1), x::IntArg(info, 2), b.data,
                   static_cast<socklen_t>(b.length)) < 0) {
    throw ErrnoError(info.Env(), errno, "setsockopt");
  }
  return info.Env().Undefined();
}

static Napi::Value GetsockoptInt(const Napi::CallbackInfo &info) {
  int v = 0;
  socklen_t len = sizeof v;
  if (::getsockopt(x::IntArg(info, 0), x::IntArg(info, 1), x::IntArg(info, 2), &v, &len) < 0) {
    throw ErrnoError(info.Env(), errno, "getsockopt");
  }
  return Napi::Number::New(info.Env(), v);
}

// getsockopt(fd, level, name, view, offset, length) → optlen written.
static Napi::Value Getsockopt(const Napi::CallbackInfo &info) {
  x::Bytes b = x::WindowArg(info, 3);
  socklen_t len = static_cast<socklen_t>(b.length);
  if (::getsockopt(x::IntArg(info, 0), x::IntArg(info, 1), x::IntArg(info, 2), b.data, &len) < 0) {
    throw ErrnoError(info.Env(), errno, "getsockopt");
  }
  return Napi::Number::New(info.Env(), len);
}

// send(fd, view, offset, length, flags) → bytes or -errno.
static Napi::Value Send(const Napi::CallbackInfo &info) {
  int fd = x::IntArg(info, 0);
  x::Bytes b = x::WindowArg(info, 1);
  int flags = info.Length() > 4 ? x::IntArg(info, 4) : 0;
  ssize_t n;
  do n = ::send(fd, b.data, b.length, flags | MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
  return Napi::Number::New(info.Env(), n < 0 ? -errno : static_cast<double>(n));
}

// recv(fd, view, offset, length, flags) → bytes (0 at EOF) or -errno.
static Napi::Value Recv(const Napi::CallbackInfo &info) {
  int fd = x::IntArg(info, 0);
  x::Bytes b = x::WindowArg(info, 1);
  int flags = info.Length() > 4 ? x::IntArg(info, 4) : 0;
  ssize_t n;
  do n = ::recv(fd, b.data, b.length, flags); while (n < 0 && errno == EINTR);
  return Napi::Number::New(info.Env(), n < 0 ? -errno : static_cast<double>(n));
}

// sendmsg(fd, view, offset, length, fds: Int32Array|null, flags, addr: view|null) → bytes or -errno.
// fds go in one SCM_RIGHTS control message; the kernel duplicates them, the caller still owns its copies.
static Napi::Value Sendmsg(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = x::IntArg(info, 0);
  x::Bytes b = x::WindowArg(info, 1);
  int flags = info.Length() > 5 && info[5].IsNumber() ? x::IntArg(info, 5) : 0;
  iovec iov{b.data, b.length};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (info.Length() > 6 && !info[6].IsNull() && !info[6].IsUndefined()) {
    x::Bytes a = x::ViewOf(env, info[6]);
    msg.msg_name = a.data;
    msg.msg_namelen = static_cast<socklen_t>(a.length);
  }
  alignas(cmsghdr) char control[CMSG_SPACE(kMaxFds * sizeof(int))];
  if (info.Length() > 4 && info[4].IsTypedArray()) {
    x::Bytes f = x::ViewOf(env, info[4]);
    size_t nfds = f.length / sizeof(int);
    if (nfds > static_cast<size_t>(kMaxFds)) return Napi::Number::New(env, -EINVAL);
    if (nfds > 0) {
      std::memset(control, 0, CMSG_SPACE(nfds * sizeof(int)));
      msg.msg_control = control;
      msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
      cmsghdr *c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
      std::memcpy(CMSG_DATA(c), f.data, nfds * sizeof(int));
    }
  }
  ssize_t n;
  do n = ::sendmsg(fd, &msg, flags | MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
  return Napi::Number::New(env, n < 0 ? -errno : static_cast<double>(n));
}

// recvmsg(fd, view, offset, length, fdsOut: Int32Array|null, flags, out: Int32Array, addrOut: view|null)
//   → bytes (0 at EOF) or -errno. out[0] = msg_flags, out[1] = fds received, out[2] = address length.
// Always MSG_CMSG_CLOEXEC. On MSG_CTRUNC every fd that did arrive is closed here (none leak) and out[1] = 0:
// the caller reports the truncation as an error.
static Napi::Value Recvmsg(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = x::IntArg(info, 0);
  x::Bytes b = x::WindowArg(info, 1);
  int flags = info.Length() > 5 && info[5].IsNumber() ? x::IntArg(info, 5) : 0;
  if (info.Length() < 7 || !info[6].IsTypedArray()) throw Napi::TypeError::New(env, "recvmsg: out must be an Int32Array");
  x::Bytes out = x::ViewOf(env, info[6]);
  if (out.length < 3 * sizeof(int32_t)) throw Napi::RangeError::New(env, "recvmsg: out needs 3 slots");
  int32_t *o = reinterpret_cast<int32_t *>(out.data);

  x::Bytes fdsOut{};
  size_t cap = 0;
  if (info.Length() > 4 && info[4].IsTypedArray()) {
    fdsOut = x::ViewOf(env, info[4]);
    cap = fdsOut.length / sizeof(int32_t);
    if (cap > static_cast<size_t>(kMaxFds)) cap = kMaxFds;
  }
  iovec iov{b.data, b.length};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (info.Length() > 7 && !info[7].IsNull() && !info[7].IsUndefined()) {
    x::Bytes a = x::ViewOf(env, info[7]);
    msg.msg_name = a.data;
    msg.msg_namelen = static_cast<socklen_t>(a.length);
  }
  alignas(cmsghdr) char control[CMSG_SPACE(kMaxFds * sizeof(int))];
  if (cap > 0) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(cap * sizeof(int));
  }
  ssize_t n;
  do n = ::recvmsg(fd, &msg, flags | MSG_CMSG_CLOEXEC); while (n < 0 && errno == EINTR);
  if (n < 0) return Napi::Number::New(env, -errno);

  size_t got = x::TakeRights(msg, reinterpret_cast<int32_t *>(fdsOut.data), cap);
  o[0] = msg.msg_flags;
  o[1] = static_cast<int32_t>(got);
  o[2] = static_cast<int32_t>(msg.msg_namelen);
  return Napi::Number::New(env, static_cast<double>(n));
}

static Napi::Value IfNametoindex(const Napi::CallbackInfo &info) {
  std::string name = info[0].As<Napi::String>().Utf8Value();
  unsigned idx = ::if_nametoindex(name.c_str());
  if (idx == 0) throw ErrnoError(info.Env(), errno ? errno : ENODEV, "if_nametoindex");
  return Napi::Number::New(info.Env(), idx);
}

static Napi::Value IfIndextoname(const Napi::CallbackInfo &info) {
  char name[IF_NAMESIZE];
  if (::if_indextoname(x::UintArg(info, 0), name) == nullptr) {
    throw ErrnoError(info.Env(), errno, "if_indextoname");
  }
  return Napi::String::New(info.Env(), name);
}

void InitSocket(Napi::Env env, Napi::Object exports) {
  exports.Set("socket", Napi::Function::New(env, Socket, "socket"));
  exports.Set("socketpair", Napi::Function::New(env, Socketpair, "socketpair"));
  exports.Set("bind", Napi::Function::New(env, Bind, "bind"));
  exports.Set("connect", Napi::Function::New(env, Connect, "connect"));
  exports.Set("listen", Napi::Function::New(env, Listen, "listen"));
  exports.Set("accept4", Napi::Function::New(env, Accept4, "accept4"));
  exports.Set("shutdown", Napi::Function::New(env, Shutdown, "shutdown"));
  exports.Set("getsockname", Napi::Function::New(env, Getsockname, "getsockname"));
  exports.Set("getpeername", Napi::Function::New(env, Getpeername, "getpeername"));
  exports.Set("setsockopt_int", Napi::Function::New(env, SetsockoptInt, "setsockopt_int"));
  exports.Set("setsockopt", Napi::Function::New(env, Setsockopt, "setsockopt"));
  exports.Set("getsockopt_int", Napi::Function::New(env, GetsockoptInt, "getsockopt_int"));
  exports.Set("getsockopt", Napi::Function::New(env, Getsockopt, "getsockopt"));
  exports.Set("send", Napi::Function::New(env, Send, "send"));
  exports.Set("recv", Napi::Function::New(env, Recv, "recv"));
  exports.Set("sendmsg", Napi::Function::New(env, Sendmsg, "sendmsg"));
  exports.Set("recvmsg", Napi::Function::New(env, Recvmsg, "recvmsg"));
  exports.Set("if_nametoindex", Napi::Function::New(env, IfNametoindex, "if_nametoindex"));
  exports.Set("if_indextoname", Napi::Function::New(env, IfIndextoname, "if_indextoname"));
}

}  // namespace xnative
