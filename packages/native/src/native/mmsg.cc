// recvmmsg(2): drain up to N datagrams into one buffer in one call (one syscall per wake-up on a busy socket).
// The buffer is cut into fixed slots; lengths, flags and source-address lengths go into one Int32Array and the
// source addresses into one byte view, so nothing is allocated per datagram. Returns a count or -errno (hot path).
#include <sys/socket.h>

#include <algorithm>

#include "binding.h"

namespace xnative {

static constexpr size_t kMaxBatch = 256;

// recvmmsg(fd, view, offset, length, slotSize, meta: Int32Array, names: view|null, nameSize, flags)
//   → datagrams received, or -errno (-EAGAIN when none is queued).
// Slot i is bytes [i*slotSize, (i+1)*slotSize) of the window; meta[3i] = bytes, meta[3i+1] = msg_flags
// (MSG_TRUNC when the datagram was longer than a slot), meta[3i+2] = source address length; the source address
// of datagram i is at names[i*nameSize]. The batch is min(length/slotSize, meta.length/3, names/nameSize, 256).
static Napi::Value Recvmmsg(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = x::IntArg(info, 0);
  x::Bytes b = x::WindowArg(info, 1);
  int64_t slot = x::Int64Arg(info, 4);
  if (slot <= 0) throw Napi::RangeError::New(env, "recvmmsg: slotSize must be positive");
  if (info.Length() < 6 || !info[5].IsTypedArray()) throw Napi::TypeError::New(env, "recvmmsg: meta must be an Int32Array");
  x::Bytes meta = x::ViewOf(env, info[5]);
  x::Bytes names{};
  size_t nameSize = 0;
  bool haveNames = info.Length() > 6 && !info[6].IsNull() && !info[6].IsUndefined();
  if (haveNames) {
    names = x::ViewOf(env, info[6]);
    int64_t ns = x::Int64Arg(info, 7);
    if (ns <= 0) throw Napi::RangeError::New(env, "recvmmsg: nameSize must be positive");
    nameSize = static_cast<size_t>(ns);
  }
  int flags = info.Length() > 8 && info[8].IsNumber() ? x::IntArg(info, 8) : 0;

  size_t n = b.length / static_cast<size_t>(slot);
  n = std::min(n, meta.length / (3 * sizeof(int32_t)));
  if (haveNames) n = std::min(n, names.length / nameSize);
  n = std::min(n, kMaxBatch);
  if (n == 0) throw Napi::RangeError::New(env, "recvmmsg: no room for one datagram");

  mmsghdr hdrs[kMaxBatch];
  iovec iov[kMaxBatch];
  for (size_t i = 0; i < n; i++) {
    iov[i].iov_base = b.data + i * static_cast<size_t>(slot);
    iov[i].iov_len = static_cast<size_t>(slot);
    msghdr &m = hdrs[i].msg_hdr;
    m = msghdr{};
    m.msg_iov = &iov[i];
    m.msg_iovlen = 1;
    if (haveNames) {
      m.msg_name = names.data + i * nameSize;
      m.msg_namelen = static_cast<socklen_t>(nameSize);
    }
    hdrs[i].msg_len = 0;
  }
  int r;
  do r = ::recvmmsg(fd, hdrs, static_cast<unsigned>(n), flags | MSG_DONTWAIT, nullptr); while (r < 0 && errno == EINTR);
  if (r < 0) return Napi::Number::New(env, -errno);
  int32_t *o = reinterpret_cast<int32_t *>(meta.data);
  for (int i = 0; i < r; i++) {
    o[3 * i] = static_cast<int32_t>(hdrs[i].msg_len);
    o[3 * i + 1] = hdrs[i].msg_hdr.msg_flags;
    o[3 * i + 2] = static_cast<int32_t>(hdrs[i].msg_hdr.msg_namelen);
  }
  return Napi::Number::New(env, r);
}

void InitMmsg(Napi::Env env, Napi::Object exports) {
  exports.Set("recvmmsg", Napi::Function::New(env, Recvmmsg, "recvmmsg"));
}

}  // namespace xnative
