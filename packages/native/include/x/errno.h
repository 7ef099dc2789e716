// x/errno.h — errno → Node-style Error { code, errno, syscall }.
// Control calls throw these; hot paths return -errno and let TypeScript build the error only when it surfaces.
#pragma once
#include <napi.h>
#include <uv.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace x {

// The errno's symbolic name ("EAGAIN"), libuv's first, glibc's as a fallback for errnos libuv does not name.
inline const char *ErrnoName(int err) {
  const char *name = uv_err_name(-err);
  if (name == nullptr || std::strncmp(name, "Unknown system error", 20) == 0) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
    const char *g = strerrorname_np(err);
    if (g != nullptr) return g;
#endif
    return "UNKNOWN";
  }
  return name;
}

// err is a positive errno. Message shaped like Node's: "EBADF: bad file descriptor, ioctl(TUNSETIFF)".
inline Napi::Error ErrnoError(Napi::Env env, int err, const char *syscall) {
  std::string msg = std::string(ErrnoName(err)) + ": " + uv_strerror(-err) + ", " + syscall;
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("code", Napi::String::New(env, ErrnoName(err)));
  e.Set("errno", Napi::Number::New(env, -err));
  e.Set("syscall", Napi::String::New(env, syscall));
  return e;
}

// Throws (as a pending JS exception) the error for the current errno; returns undefined for convenience.
inline Napi::Value ThrowErrno(Napi::Env env, const char *syscall, int err = errno) {
  ErrnoError(env, err, syscall).ThrowAsJavaScriptException();
  return env.Undefined();
}

inline Napi::Value ThrowType(Napi::Env env, const char *code, const std::string &msg) {
  Napi::TypeError e = Napi::TypeError::New(env, msg);
  e.Set("code", Napi::String::New(env, code));
  e.ThrowAsJavaScriptException();
  return env.Undefined();
}

inline Napi::Value ThrowRange(Napi::Env env, const char *code, const std::string &msg) {
  Napi::RangeError e = Napi::RangeError::New(env, msg);
  e.Set("code", Napi::String::New(env, code));
  e.ThrowAsJavaScriptException();
  return env.Undefined();
}

}  // namespace x
