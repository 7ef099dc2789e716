// sendmmsg(2): send up to N datagrams in one call, each with its own fds (SCM_RIGHTS) — a burst of replies or
// requests costs one syscall instead of N. Datagrams are packed back to back in one buffer; their lengths, fd
// counts and the flat fd list come in Int32Arrays, so nothing is walked property by property. MSG_NOSIGNAL always.
// Returns the number of datagrams sent (a prefix of the batch) or -errno (-EAGAIN when not even the first fit).
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "binding.h"

namespace xnative {

static constexpr size_t kMaxBatch = 256;
static constexpr size_t kMaxFdsPerMsg = 253;  // SCM_MAX_FD

// sendmmsg(fd, view, offset, length, lens: Int32Array, count, fds: Int32Array|null, fdCounts: Int32Array|null, flags)
static Napi::Value Sendmmsg(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = x::IntArg(info, 0);
  x::Bytes b = x::WindowArg(info, 1);
  if (info.Length() < 5 || !info[4].IsTypedArray()) throw Napi::TypeError::New(env, "sendmmsg: lens must be an Int32Array");
  x::Bytes lensView = x::ViewOf(env, info[4]);
  int64_t count = x::Int64Arg(info, 5);
  const int32_t *lens = reinterpret_cast<const int32_t *>(lensView.data);
  if (count < 0 || static_cast<size_t>(count) > lensView.length / sizeof(int32_t)) {
    throw Napi::RangeError::New(env, "sendmmsg: count exceeds lens");
  }
  const int32_t *fds = nullptr;
  size_t fdsLen = 0;
  const int32_t *fdCounts = nullptr;
  if (info.Length() > 7 && info[6].IsTypedArray() && info[7].IsTypedArray()) {
    x::Bytes f = x::ViewOf(env, info[6]);
    x::Bytes fc = x::ViewOf(env, info[7]);
    fds = reinterpret_cast<const int32_t *>(f.data);
    fdsLen = f.length / sizeof(int32_t);
    fdCounts = reinterpret_cast<const int32_t *>(fc.data);
    if (static_cast<size_t>(count) > fc.length / sizeof(int32_t)) throw Napi::RangeError::New(env, "sendmmsg: count exceeds fdCounts");
  }
  int flags = info.Length() > 8 && info[8].IsNumber() ? x::IntArg(info, 8) : 0;
  size_t n = std::min(static_cast<size_t>(count), kMaxBatch);
  if (n == 0) return Napi::Number::New(env, 0);

  mmsghdr hdrs[kMaxBatch];
  iovec iov[kMaxBatch];
  size_t control = 0;
  for (size_t i = 0; i < n; i++) {
    size_t k = fdCounts ? static_cast<size_t>(fdCounts[i] < 0 ? 0 : fdCounts[i]) : 0;
    if (k > kMaxFdsPerMsg) return Napi::Number::New(env, -EINVAL);
    control += k > 0 ? CMSG_SPACE(k * sizeof(int)) : 0;
  }
  std::vector<char> cbuf(control);
  size_t at = 0, fdAt = 0, cAt = 0;
  for (size_t i = 0; i < n; i++) {
    if (lens[i] < 0 || at + static_cast<size_t>(lens[i]) > b.length) throw Napi::RangeError::New(env, "sendmmsg: lengths exceed the buffer");
    iov[i].iov_base = b.data + at;
    iov[i].iov_len = static_cast<size_t>(lens[i]);
    at += static_cast<size_t>(lens[i]);
    msghdr &m = hdrs[i].msg_hdr;
    m = msghdr{};
    m.msg_iov = &iov[i];
    m.msg_iovlen = 1;
    hdrs[i].msg_len = 0;
    size_t k = fdCounts ? static_cast<size_t>(fdCounts[i] < 0 ? 0 : fdCounts[i]) : 0;
    if (k > 0) {
      if (fdAt + k > fdsLen) throw Napi::RangeError::New(env, "sendmmsg: fd counts exceed the fd list");
      char *c = cbuf.data() + cAt;
      std::memset(c, 0, CMSG_SPACE(k * sizeof(int)));
      m.msg_control = c;
      m.msg_controllen = CMSG_SPACE(k * sizeof(int));
      cmsghdr *h = CMSG_FIRSTHDR(&m);
      h->cmsg_level = SOL_SOCKET;
      h->cmsg_type = SCM_RIGHTS;
      h->cmsg_len = CMSG_LEN(k * sizeof(int));
      std::memcpy(CMSG_DATA(h), fds + fdAt, k * sizeof(int));
      fdAt += k;
      cAt += CMSG_SPACE(k * sizeof(int));
    }
  }
  int r;
  do r = ::sendmmsg(fd, hdrs, static_cast<unsigned>(n), flags | MSG_NOSIGNAL); while (r < 0 && errno == EINTR);
  return Napi::Number::New(env, r < 0 ? -errno : r);
}

void InitSendmmsg(Napi::Env env, Napi::Object exports) {
  exports.Set("sendmmsg", Napi::Function::New(env, Sendmmsg, "sendmmsg"));
}

}  // namespace xnative
