// The real driver (cartesi/linux drivers/cartesi/cmio.c): open, IOCTL_CMIO_SETUP, IOCTL_CMIO_YIELD.
// The UAPI struct and ioctl numbers are defined here (no kernel headers needed) and exported to TypeScript,
// which never retypes them. YIELD is synchronous in the kernel (the whole machine stops until the host resumes it):
// cmio_yield blocks the calling thread; cmio_yield_async runs the same ioctl in a Napi::AsyncWorker.
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/ioctl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "binding.h"

namespace xcmio {

// cartesi/linux include/uapi/linux/cartesi/cmio.h@097fd98
struct cmio_buffer {
  uint64_t data;
  uint64_t length;
};
struct cmio_setup {
  cmio_buffer tx, rx;
};
#define IOCTL_CMIO_SETUP _IOR(0xd3, 0, struct cmio_setup)
#define IOCTL_CMIO_YIELD _IOWR(0xd3, 1, uint64_t)

// libcmt 0.18.0 hard-codes the same numbers (asm-generic encoding: riscv64, x86-64, arm64).
static_assert(IOCTL_CMIO_SETUP == 0x8020d300UL, "IOCTL_CMIO_SETUP");
static_assert(IOCTL_CMIO_YIELD == 0xc008d301UL, "IOCTL_CMIO_YIELD");
static_assert(sizeof(cmio_setup) == 32, "struct cmio_setup is 32 bytes");

// cmio_open(path) → fd. O_RDWR | O_CLOEXEC; the driver allows one open at a time (EBUSY).
static Napi::Value Open(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "path must be a string");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  int fd;
  do fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) throw x::ErrnoError(env, errno, "open");
  return Napi::Number::New(env, fd);
}

// cmio_setup(fd, out) fills out (≥ 32 bytes) with struct cmio_setup.
static Napi::Value Setup(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = x::IntArg(info, 0);
  x::Bytes out = x::WindowArg(info, 1);
  if (out.length < sizeof(cmio_setup)) throw Napi::RangeError::New(env, "setup buffer must be 32 bytes");
  cmio_setup s{};
  if (::ioctl(fd, IOCTL_CMIO_SETUP, &s) < 0) throw x::ErrnoError(env, errno, "ioctl(IOCTL_CMIO_SETUP)");
  std::memcpy(out.data, &s, sizeof s);
  return env.Undefined();
}

// cmio_yield(fd, word) → 0 or -errno; word[0] is the request on entry and the reply on return (in place, as the
// kernel does). Blocks the calling thread for as long as the machine is yielded.
static Napi::Value Yield(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = x::IntArg(info, 0);
  uint64_t *word = WordArg(info, 1);
  int r = ::ioctl(fd, IOCTL_CMIO_YIELD, word);
  return Napi::Number::New(env, r < 0 ? -errno : 0);
}

class YieldWorker : public Napi::AsyncWorker {
 public:
  YieldWorker(Napi::Env env, int fd, Napi::TypedArray word, uint64_t *ptr)
      : Napi::AsyncWorker(env, "cmio_yield"),
        deferred_(Napi::Promise::Deferred::New(env)),
        fd_(fd),
        ptr_(ptr),
        request_(*ptr) {
    word_ = Napi::Persistent(word.As<Napi::Object>());  // the reply is stored through ptr_ in OnOK: keep it alive
  }
  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
    // the ioctl works on a private copy: no JS memory is touched off the JS thread
    uint64_t w = request_;
    if (::ioctl(fd_, IOCTL_CMIO_YIELD, &w) < 0) err_ = errno;
    else result_ = w;
  }
  void OnOK() override {
    Napi::Env env = Env();
    if (err_ == 0) *ptr_ = result_;
    deferred_.Resolve(Napi::Number::New(env, -err_));
  }
  void OnError(const Napi::Error &e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference word_;
  int fd_;
  uint64_t *ptr_;
  uint64_t request_;
  uint64_t result_ = 0;
  int err_ = 0;
};

// cmio_yield_async(fd, word) → Promise<0 | -errno>; word[0] holds the reply once it resolves with 0.
static Napi::Value YieldAsync(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = x::IntArg(info, 0);
  uint64_t *ptr = WordArg(info, 1);
  auto *w = new YieldWorker(env, fd, info[1].As<Napi::TypedArray>(), ptr);
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

void InitKernel(Napi::Env env, Napi::Object exports) {
  Napi::Object c = Napi::Object::New(env);
  c.Set("IOCTL_CMIO_SETUP", Napi::Number::New(env, static_cast<double>(IOCTL_CMIO_SETUP)));
  c.Set("IOCTL_CMIO_YIELD", Napi::Number::New(env, static_cast<double>(IOCTL_CMIO_YIELD)));
  c.Set("sizeof_cmio_buffer", Napi::Number::New(env, sizeof(cmio_buffer)));
  c.Set("sizeof_cmio_setup", Napi::Number::New(env, sizeof(cmio_setup)));
  c.Set("offsetof_cmio_setup_tx_data", Napi::Number::New(env, offsetof(cmio_setup, tx.data)));
  c.Set("offsetof_cmio_setup_tx_length", Napi::Number::New(env, offsetof(cmio_setup, tx.length)));
  c.Set("offsetof_cmio_setup_rx_data", Napi::Number::New(env, offsetof(cmio_setup, rx.data)));
  c.Set("offsetof_cmio_setup_rx_length", Napi::Number::New(env, offsetof(cmio_setup, rx.length)));
  c.Set("sizeof_yield_word", Napi::Number::New(env, sizeof(uint64_t)));
  // TAP offloads for the bridge's --vnet-hdr mode (linux/if_tun.h; TUNSETOFFLOAD itself is in @x/native)
  c.Set("TUN_F_CSUM", Napi::Number::New(env, TUN_F_CSUM));
  c.Set("TUN_F_TSO4", Napi::Number::New(env, TUN_F_TSO4));
  c.Set("TUN_F_TSO6", Napi::Number::New(env, TUN_F_TSO6));
  c.Set("TUN_F_TSO_ECN", Napi::Number::New(env, TUN_F_TSO_ECN));

  exports.Set("constants", c);
  exports.Set("cmio_open", Napi::Function::New(env, Open, "cmio_open"));
  exports.Set("cmio_setup", Napi::Function::New(env, Setup, "cmio_setup"));
  exports.Set("cmio_yield", Napi::Function::New(env, Yield, "cmio_yield"));
  exports.Set("cmio_yield_async", Napi::Function::New(env, YieldAsync, "cmio_yield_async"));
}

}  // namespace xcmio
