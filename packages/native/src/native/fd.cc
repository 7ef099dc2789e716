// File-descriptor syscalls. Hot paths (read, write, eventfd_read/write) return a count or -errno;
// control calls (close, fcntl, pipe2, memfd_create, eventfd, ioctl) throw Node-style errors.
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "binding.h"

namespace xnative {

using x::ErrnoError;

static Napi::Value Close(const Napi::CallbackInfo &info) {
  int fd = x::IntArg(info, 0);
  // Not retried on EINTR: the fd is released either way on Linux.
  if (::close(fd) < 0 && errno != EINTR) throw ErrnoError(info.Env(), errno, "close");
  return info.Env().Undefined();
}

static Napi::Value Read(const Napi::CallbackInfo &info) {
  int fd = x::IntArg(info, 0);
  x::Bytes b = x::WindowArg(info, 1);
  ssize_t n;
  do n = ::read(fd, b.data, b.length); while (n < 0 && errno == EINTR);
  return Napi::Number::New(info.Env(), n < 0 ? -errno : static_cast<double>(n));
}

static Napi::Value Write(const Napi::CallbackInfo &info) {
  int fd = x::IntArg(info, 0);
  x::Bytes b = x::WindowArg(info, 1);
  ssize_t n;
  do n = ::write(fd, b.data, b.length); while (n < 0 && errno == EINTR);
  return Napi::Number::New(info.Env(), n < 0 ? -errno : static_cast<double>(n));
}

static Napi::Value Fcntl(const Napi::CallbackInfo &info) {
  int fd = x::IntArg(info, 0), cmd = x::IntArg(info, 1);
  long arg = info.Length() > 2 ? x::Int64Arg(info, 2) : 0;
  int r = ::fcntl(fd, cmd, arg);
  if (r < 0) throw ErrnoError(info.Env(), errno, "fcntl");
  return Napi::Number::New(info.Env(), r);
}

static Napi::Value Pipe2(const Napi::CallbackInfo &info) {
  int flags = info.Length() > 0 ? x::IntArg(info, 0) : (O_CLOEXEC | O_NONBLOCK);
  int fds[2];
  if (::pipe2(fds, flags) < 0) throw ErrnoError(info.Env(), errno, "pipe2");
  Napi::Array a = Napi::Array::New(info.Env(), 2);
  a.Set(0u, fds[0]);
  a.Set(1u, fds[1]);
  return a;
}

static Napi::Value MemfdCreate(const Napi::CallbackInfo &info) {
  std::string name = info[0].As<Napi::String>().Utf8Value();
  unsigned flags = x::UintArg(info, 1);
  int fd = ::memfd_create(name.c_str(), flags);
  if (fd < 0) throw ErrnoError(info.Env(), errno, "memfd_create");
  return Napi::Number::New(info.Env(), fd);
}

static Napi::Value Eventfd(const Napi::CallbackInfo &info) {
  unsigned init = x::UintArg(info, 0);
  int flags = x::IntArg(info, 1);
  int fd = ::eventfd(init, flags);
  if (fd < 0) throw ErrnoError(info.Env(), errno, "eventfd");
  return Napi::Number::New(info.Env(), fd);
}

// → the counter (as a double; exact below 2^53), or -errno (-EAGAIN when zero on a non-blocking eventfd).
static Napi::Value EventfdRead(const Napi::CallbackInfo &info) {
  int fd = x::IntArg(info, 0);
  uint64_t v = 0;
  ssize_t n;
  do n = ::read(fd, &v, sizeof v); while (n < 0 && errno == EINTR);
  if (n < 0) return Napi::Number::New(info.Env(), -errno);
  return Napi::Number::New(info.Env(), static_cast<double>(v));
}

static Napi::Value EventfdWrite(const Napi::CallbackInfo &info) {
  int fd = x::IntArg(info, 0);
  uint64_t v = static_cast<uint64_t>(x::Int64Arg(info, 1));
  ssize_t n;
  do n = ::write(fd, &v, sizeof v); while (n < 0 && errno == EINTR);
  return Napi::Number::New(info.Env(), n < 0 ? -errno : 0);
}

// The error of a failed ioctl, its syscall named after the request: info[nameAt] if given, else the number.
static Napi::Error IoctlError(const Napi::CallbackInfo &info, int err, unsigned long req, size_t nameAt) {
  std::string name = info.Length() > nameAt && info[nameAt].IsString() ? info[nameAt].As<Napi::String>().Utf8Value() : "";
  if (name.empty()) {
    char hex[24];
    std::snprintf(hex, sizeof hex, "0x%lx", req);
    name = hex;
  }
  return ErrnoError(info.Env(), err, ("ioctl(" + name + ")").c_str());
}

// ioctl(fd, request, view|null, offset, length, name?) — the request is numeric (u32), the argument a pointer
// into the view's window (or NULL). name labels the error: syscall 'ioctl(TUNSETIFF)'.
static Napi::Value Ioctl(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = x::IntArg(info, 0);
  unsigned long req = x::UintArg(info, 1);
  void *arg = nullptr;
  if (info.Length() > 2 && !info[2].IsNull() && !info[2].IsUndefined()) arg = x::WindowArg(info, 2).data;
  int r;
  do r = ::ioctl(fd, req, arg); while (r < 0 && errno == EINTR);
  if (r < 0) throw IoctlError(info, errno, req, 5);
  return Napi::Number::New(env, r);
}

// ioctl with an integer argument passed by value (TUNSETPERSIST and friends).
static Napi::Value IoctlInt(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = x::IntArg(info, 0);
  unsigned long req = x::UintArg(info, 1);
  long v = static_cast<long>(x::Int64Arg(info, 2));
  int r;
  do r = ::ioctl(fd, req, v); while (r < 0 && errno == EINTR);
  if (r < 0) throw IoctlError(info, errno, req, 3);
  return Napi::Number::New(env, r);
}

void InitFd(Napi::Env env, Napi::Object exports) {
  exports.Set("close", Napi::Function::New(env, Close, "close"));
  exports.Set("read", Napi::Function::New(env, Read, "read"));
  exports.Set("write", Napi::Function::New(env, Write, "write"));
  exports.Set("fcntl", Napi::Function::New(env, Fcntl, "fcntl"));
  exports.Set("pipe2", Napi::Function::New(env, Pipe2, "pipe2"));
  exports.Set("memfd_create", Napi::Function::New(env, MemfdCreate, "memfd_create"));
  exports.Set("eventfd", Napi::Function::New(env, Eventfd, "eventfd"));
  exports.Set("eventfd_read", Napi::Function::New(env, EventfdRead, "eventfd_read"));
  exports.Set("eventfd_write", Napi::Function::New(env, EventfdWrite, "eventfd_write"));
  exports.Set("ioctl", Napi::Function::New(env, Ioctl, "ioctl"));
  exports.Set("ioctl_int", Napi::Function::New(env, IoctlInt, "ioctl_int"));
}

}  // namespace xnative
