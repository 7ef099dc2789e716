// recvmmsg(2): drain up to N datagrams into one buffer in one call (one syscall per wake-up on a busy socket).
// The buffer is cut into fixed slots; lengths, flags and source-address lengths go into one Int32Array and the
// source addresses into one byte view, so nothing is allocated per datagram. Returns a count or -errno (hot path).
// DatagramReceiver does the same from a uv_poll callback: it drains in C, then calls JS once per batch with the
// count (MakeCallback), so a wake-up costs one transition into JS and no extra native call.
#include <sys/socket.h>
#include <time.h>

#include <algorithm>
#include <memory>

#include "binding.h"

namespace xnative {

static constexpr size_t kMaxBatch = 256;

// recvmmsg(fd, view, offset, length, slotSize, meta: Int32Array, names: view|null, nameSize, flags, time?)
//   → datagrams received, or -errno (-EAGAIN when none is queued). time: BigInt64Array(1), receive time in ns.
// Slot i is bytes [i*slotSize, (i+1)*slotSize) of the window; meta[3i] = bytes, meta[3i+1] = msg_flags
// (MSG_TRUNC when the datagram was longer than a slot), meta[3i+2] = source address length; the source address
// of datagram i is at names[i*nameSize]. The batch is min(length/slotSize, meta.length/3, names/nameSize, 256).
struct Batch {
  int64_t *time = nullptr;  // CLOCK_MONOTONIC ns when the last recvmmsg returned (optional BigInt64Array)
  uint8_t *data = nullptr;
  size_t slot = 0;
  size_t slots = 0;
  int32_t *meta = nullptr;
  uint8_t *names = nullptr;
  size_t nameSize = 0;
};

// Validates (view, offset, length) at info[i], slotSize at i+3, meta at i+4, names/nameSize at i+5/i+6.
static Batch BatchArgs(const Napi::CallbackInfo &info, size_t i) {
  Napi::Env env = info.Env();
  Batch b;
  x::Bytes buf = x::WindowArg(info, i);
  int64_t slot = x::Int64Arg(info, i + 3);
  if (slot <= 0) throw Napi::RangeError::New(env, "recvmmsg: slotSize must be positive");
  if (info.Length() <= i + 4 || !info[i + 4].IsTypedArray()) {
    throw Napi::TypeError::New(env, "recvmmsg: meta must be an Int32Array");
  }
  x::Bytes meta = x::ViewOf(env, info[i + 4]);
  size_t n = buf.length / static_cast<size_t>(slot);
  n = std::min(n, meta.length / (3 * sizeof(int32_t)));
  if (info.Length() > i + 5 && !info[i + 5].IsNull() && !info[i + 5].IsUndefined()) {
    x::Bytes names = x::ViewOf(env, info[i + 5]);
    int64_t ns = x::Int64Arg(info, i + 6);
    if (ns <= 0) throw Napi::RangeError::New(env, "recvmmsg: nameSize must be positive");
    b.names = names.data;
    b.nameSize = static_cast<size_t>(ns);
    n = std::min(n, names.length / b.nameSize);
  }
  n = std::min(n, kMaxBatch);
  if (n == 0) throw Napi::RangeError::New(env, "recvmmsg: no room for one datagram");
  b.data = buf.data;
  b.slot = static_cast<size_t>(slot);
  b.slots = n;
  b.meta = reinterpret_cast<int32_t *>(meta.data);
  return b;
}

// Optional BigInt64Array at info[i] for the receive time.
static void TimeArg(const Napi::CallbackInfo &info, size_t i, Batch &b) {
  if (info.Length() <= i || info[i].IsNull() || info[i].IsUndefined()) return;
  if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_bigint64_array) {
    throw Napi::TypeError::New(info.Env(), "recvmmsg: time must be a BigInt64Array");
  }
  x::Bytes t = x::ViewOf(info.Env(), info[i]);
  if (t.length < sizeof(int64_t)) throw Napi::RangeError::New(info.Env(), "recvmmsg: time needs one slot");
  b.time = reinterpret_cast<int64_t *>(t.data);
}

// → datagrams received, or -errno. With b.time, records CLOCK_MONOTONIC (process.hrtime's clock) right after the
// call returned datagrams: the moment they were read, as a blocking recvfrom caller would see it.
static int DoRecvmmsg(int fd, const Batch &b, int flags) {
  mmsghdr hdrs[kMaxBatch];
  iovec iov[kMaxBatch];
  for (size_t i = 0; i < b.slots; i++) {
    iov[i].iov_base = b.data + i * b.slot;
    iov[i].iov_len = b.slot;
    msghdr &m = hdrs[i].msg_hdr;
    m = msghdr{};
    m.msg_iov = &iov[i];
    m.msg_iovlen = 1;
    if (b.names != nullptr) {
      m.msg_name = b.names + i * b.nameSize;
      m.msg_namelen = static_cast<socklen_t>(b.nameSize);
    }
    hdrs[i].msg_len = 0;
  }
  int r;
  do r = ::recvmmsg(fd, hdrs, static_cast<unsigned>(b.slots), flags | MSG_DONTWAIT, nullptr);
  while (r < 0 && errno == EINTR);
  if (r < 0) return -errno;
  if (b.time != nullptr) {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    *b.time = static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
  }
  for (int i = 0; i < r; i++) {
    b.meta[3 * i] = static_cast<int32_t>(hdrs[i].msg_len);
    b.meta[3 * i + 1] = hdrs[i].msg_hdr.msg_flags;
    b.meta[3 * i + 2] = static_cast<int32_t>(hdrs[i].msg_hdr.msg_namelen);
  }
  return r;
}

// recvmmsg(fd, view, offset, length, slotSize, meta: Int32Array, names: view|null, nameSize, flags, time?)
//   → datagrams received, or -errno (-EAGAIN when none is queued). time: BigInt64Array(1), receive time in ns.
// Slot i is bytes [i*slotSize, (i+1)*slotSize) of the window; meta[3i] = bytes, meta[3i+1] = msg_flags
// (MSG_TRUNC when the datagram was longer than a slot), meta[3i+2] = source address length; the source address
// of datagram i is at names[i*nameSize]. The batch is min(length/slotSize, meta.length/3, names/nameSize, 256).
static Napi::Value Recvmmsg(const Napi::CallbackInfo &info) {
  int fd = x::IntArg(info, 0);
  Batch b = BatchArgs(info, 1);
  int flags = info.Length() > 8 && info[8].IsNumber() ? x::IntArg(info, 8) : 0;
  TimeArg(info, 9, b);
  return Napi::Number::New(info.Env(), DoRecvmmsg(fd, b, flags));
}

// new DatagramReceiver(fd, view, offset, length, slotSize, meta, names, nameSize, callback(n), time?)
// When fd is readable: recvmmsg into the batch, callback(n) for each batch of n > 0 datagrams (at most
// kRoundsPerWakeup full batches per wake-up), callback(-errno) on a receive error or POLLERR (SO_ERROR's cause).
// The batch buffers are referenced for the receiver's lifetime. start()/stop()/close()/ref()/unref().
class DatagramReceiver : public x::PollObject<DatagramReceiver> {
 public:
  static Napi::Function Define(Napi::Env env) {
    std::vector<Descriptor> methods;
    PollMethods(methods);
    return DefineClass(env, "DatagramReceiver", methods);
  }

  explicit DatagramReceiver(const Napi::CallbackInfo &info) : x::PollObject<DatagramReceiver>(info) {
    Napi::Env env = info.Env();
    int fd = x::IntArg(info, 0);
    batch_ = BatchArgs(info, 1);
    TimeArg(info, 9, batch_);
    buffers_ = Napi::Persistent(Napi::Array::New(env, 4));
    buffers_.Value().Set(0u, info[1]);
    buffers_.Value().Set(1u, info[5]);
    buffers_.Value().Set(2u, info[6]);
    if (info.Length() > 9) buffers_.Value().Set(3u, info[9]);
    InitPoll(env, fd, info[8], "x:DatagramReceiver", UV_READABLE);
  }

 private:
  static constexpr int kRoundsPerWakeup = 4;

  void OnPoll(int status, int) override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    int fd = x::Poller::fd();
    if (status < 0) {
      // libuv reports POLLERR as EBADF and stops the handle: report the socket's own error when it has one.
      ReleaseHold();
      int err = 0;
      socklen_t len = sizeof err;
      if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err != 0) status = -err;
      CallBack({Napi::Number::New(env, status)});
      return;
    }
    for (int round = 0; round < kRoundsPerWakeup && IsOpen(); round++) {
      int n = DoRecvmmsg(fd, batch_, 0);
      if (n == -EAGAIN || n == -EWOULDBLOCK) return;
      CallBack({Napi::Number::New(env, n)});
      if (n < 0 || static_cast<size_t>(n) < batch_.slots) return;
    }
  }

  Batch batch_;
  Napi::Reference<Napi::Array> buffers_;
};

void InitMmsg(Napi::Env env, Napi::Object exports) {
  exports.Set("recvmmsg", Napi::Function::New(env, Recvmmsg, "recvmmsg"));
  exports.Set("DatagramReceiver", DatagramReceiver::Define(env));
}

}  // namespace xnative
