// Message arenas: sendmsg/recvmsg for request/reply hot paths over one ArrayBuffer that is validated once, when the
// arena is made. Each call then passes only scalars — fd, offset, length, flags — so no view is re-parsed per call
// (re-parsing three typed arrays cost more than the syscall's own entry). The ArrayBuffer (fixed-length: resizable
// ones are refused) is held by a reference and its data pointer and length are re-read on every call: a transferred
// buffer is an EINVAL, never a dangling pointer.
//
//   msgarena(ab, fdsOffset, maxFds, infoOffset) → [recv, send]
//   recv(fd, offset, length, flags) → bytes (0 at EOF) or -errno; info[0] = msg_flags, info[1] = fds received
//     (at fdsOffset, at most maxFds; more, or MSG_CTRUNC, closes them all and sets MSG_CTRUNC). MSG_CMSG_CLOEXEC.
//   send(fd, offset, length, flags) → bytes or -errno (MSG_NOSIGNAL; no fds: sendmsg with SCM_RIGHTS is elsewhere).
// Both functions share the arena; it is freed when both have been collected.
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "binding.h"

namespace xnative {

namespace {

constexpr int kMaxFds = 253;  // SCM_MAX_FD

struct Arena {
  napi_ref ab = nullptr;
  uint8_t *base = nullptr;
  size_t size = 0;
  int32_t *fds = nullptr;
  size_t maxFds = 0;
  int32_t *info = nullptr;
  std::atomic<int> users{2};
};

void Release(napi_env env, void *data, void *) {
  auto *a = static_cast<Arena *>(data);
  if (a->users.fetch_sub(1) == 1) {
    napi_delete_reference(env, a->ab);
    delete a;
  }
}

// The arena and (fd, offset, length, flags), or nullptr with *result set to -errno when the arguments are not
// four numbers, the window is outside the buffer, or the buffer was detached.
Arena *Args(napi_env env, napi_callback_info cbi, int32_t v[4], int32_t *err) {
  size_t argc = 4;
  napi_value argv[4];
  void *data;
  *err = -EINVAL;
  if (napi_get_cb_info(env, cbi, &argc, argv, nullptr, &data) != napi_ok || argc < 4) return nullptr;
  for (int i = 0; i < 4; i++) {
    if (napi_get_value_int32(env, argv[i], &v[i]) != napi_ok) return nullptr;
  }
  auto *a = static_cast<Arena *>(data);
  napi_value ab;
  void *now = nullptr;
  size_t len = 0;
  if (napi_get_reference_value(env, a->ab, &ab) != napi_ok || ab == nullptr) return nullptr;
  // detached (length 0, no data) or moved: not the memory this arena was checked against
  if (napi_get_arraybuffer_info(env, ab, &now, &len) != napi_ok || now != a->base || len != a->size) return nullptr;
  if (v[1] < 0 || v[2] < 0 || static_cast<size_t>(v[1]) + static_cast<size_t>(v[2]) > a->size) return nullptr;
  return a;
}

napi_value Int(napi_env env, int64_t n) {
  napi_value r;
  napi_create_int64(env, n, &r);
  return r;
}

napi_value Recv(napi_env env, napi_callback_info cbi) {
  int32_t v[4];
  int32_t err;
  Arena *a = Args(env, cbi, v, &err);
  if (a == nullptr) return Int(env, err);
  iovec iov{a->base + v[1], static_cast<size_t>(v[2])};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(kMaxFds * sizeof(int))];
  if (a->maxFds > 0) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(a->maxFds * sizeof(int));
  }
  ssize_t n;
  do n = ::recvmsg(v[0], &msg, v[3] | MSG_CMSG_CLOEXEC); while (n < 0 && errno == EINTR);
  if (n < 0) return Int(env, -errno);
  size_t got = x::TakeRights(msg, a->fds, a->maxFds);
  a->info[0] = msg.msg_flags;
  a->info[1] = static_cast<int32_t>(got);
  return Int(env, n);
}

napi_value Send(napi_env env, napi_callback_info cbi) {
  int32_t v[4];
  int32_t err;
  Arena *a = Args(env, cbi, v, &err);
  if (a == nullptr) return Int(env, err);
  iovec iov{a->base + v[1], static_cast<size_t>(v[2])};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  ssize_t n;
  do n = ::sendmsg(v[0], &msg, v[3] | MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
  return Int(env, n < 0 ? -errno : n);
}

Napi::Value MakeArena(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsArrayBuffer()) throw Napi::TypeError::New(env, "msgarena: expected an ArrayBuffer");
  Napi::ArrayBuffer ab = info[0].As<Napi::ArrayBuffer>();
  // a resizable buffer could shrink under the pointers kept here: only fixed-length ones
  Napi::Value resizable = ab.Get("resizable");
  if (resizable.IsBoolean() && resizable.As<Napi::Boolean>().Value()) {
    throw Napi::TypeError::New(env, "msgarena: a resizable ArrayBuffer cannot back an arena");
  }
  int64_t fdsOff = x::Int64Arg(info, 1), maxFds = x::Int64Arg(info, 2), infoOff = x::Int64Arg(info, 3);
  size_t size = ab.ByteLength();
  if (maxFds < 0 || maxFds > kMaxFds) throw Napi::RangeError::New(env, "msgarena: maxFds must be 0…253");
  if (fdsOff < 0 || fdsOff % 4 || static_cast<size_t>(fdsOff) + 4 * static_cast<size_t>(maxFds) > size ||
      infoOff < 0 || infoOff % 4 || static_cast<size_t>(infoOff) + 8 > size) {
    throw Napi::RangeError::New(env, "msgarena: fds or info outside the buffer");
  }
  if (size > 0x7fffffff) throw Napi::RangeError::New(env, "msgarena: buffer larger than 2 GiB");
  auto *a = new Arena();
  a->base = static_cast<uint8_t *>(ab.Data());
  a->size = size;
  a->fds = reinterpret_cast<int32_t *>(a->base + fdsOff);
  a->maxFds = static_cast<size_t>(maxFds);
  a->info = reinterpret_cast<int32_t *>(a->base + infoOff);
  napi_create_reference(env, ab, 1, &a->ab);
  napi_value fns[2];
  napi_create_function(env, "recv", NAPI_AUTO_LENGTH, Recv, a, &fns[0]);
  napi_create_function(env, "send", NAPI_AUTO_LENGTH, Send, a, &fns[1]);
  for (napi_value f : fns) napi_add_finalizer(env, f, a, Release, nullptr, nullptr);
  Napi::Array r = Napi::Array::New(env, 2);
  r.Set(0u, Napi::Value(env, fns[0]));
  r.Set(1u, Napi::Value(env, fns[1]));
  return r;
}

}  // namespace

void InitMsgArena(Napi::Env env, Napi::Object exports) {
  exports.Set("msgarena", Napi::Function::New(env, MakeArena, "msgarena"));
}

}  // namespace xnative
