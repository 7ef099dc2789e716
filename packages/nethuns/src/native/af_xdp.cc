// af_xdp: one AF_XDP socket with its own UMEM, the page-aligned window of a JS SharedArrayBuffer that also holds
// the Context's buffers (buffer d = UMEM frame d; the payload sits at frame + XDP_PACKET_HEADROOM). Native code owns
// the four rings (fill, completion, RX, TX): cached producer/consumer indices, acquire loads, release stores,
// kicks. Buffers move between the kernel and JS by descriptor only: the stash feeds the fill ring, RX hands frames
// to JS, TX takes frames JS wrote, completions (and frames a BPF filter dropped) go back through `releases`.
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifdef NETHUNS_HAVE_PCAP
#include "libpcap.h"
#endif

#include "binding.h"
#include "socket_base.h"

#ifndef XDP_MAX_TX_SKB_BUDGET
#define XDP_MAX_TX_SKB_BUDGET 9
#endif
#ifndef SOL_XDP
#define SOL_XDP 283
#endif

namespace nethuns {

namespace {

constexpr uint32_t kHeadroom = 256;  // XDP_PACKET_HEADROOM: where copy mode puts the packet in a frame

enum Options : uint32_t { OPT_TIMESTAMP = 1u << 0 };

// One mmap'd ring: free-running u32 indices, slot = idx & mask, cached copies of both indices.
struct Ring {
  uint32_t *producer = nullptr, *consumer = nullptr, *flags = nullptr;
  uint8_t *desc = nullptr;
  uint32_t size = 0, mask = 0, cachedProd = 0, cachedCons = 0;
  void *map = nullptr;
  size_t mapLen = 0;

  void Map(Napi::Env env, int fd, const struct xdp_ring_offset &off, uint32_t n, size_t entry, off_t pgoff,
           bool producerSide, const char *what) {
    mapLen = off.desc + static_cast<size_t>(n) * entry;
    map = ::mmap(nullptr, mapLen, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, pgoff);
    if (map == MAP_FAILED) {
      map = nullptr;
      throw x::ErrnoError(env, errno, what);
    }
    auto *base = static_cast<uint8_t *>(map);
    producer = reinterpret_cast<uint32_t *>(base + off.producer);
    consumer = reinterpret_cast<uint32_t *>(base + off.consumer);
    flags = reinterpret_cast<uint32_t *>(base + off.flags);
    desc = base + off.desc;
    size = n;
    mask = n - 1;
    cachedProd = LoadAcquire(producer);
    cachedCons = LoadAcquire(consumer);
    if (producerSide) cachedCons += size;  // producer view: "free" = cachedCons - cachedProd
  }
  void Unmap() {
    if (map != nullptr) ::munmap(map, mapLen);
    map = nullptr;
    size = 0;
  }
  // Producer side (fill, TX): slots free for writing, up to n.
  uint32_t Free(uint32_t n) {
    uint32_t free = cachedCons - cachedProd;
    if (free < n) {
      cachedCons = LoadAcquire(consumer) + size;
      free = cachedCons - cachedProd;
    }
    return free < n ? free : n;
  }
  void Submit() { StoreRelease(producer, cachedProd); }
  // Consumer side (RX, completion): entries ready, up to n.
  uint32_t Avail(uint32_t n) {
    uint32_t avail = cachedProd - cachedCons;
    if (avail == 0) {
      cachedProd = LoadAcquire(producer);
      avail = cachedProd - cachedCons;
    }
    return avail < n ? avail : n;
  }
  void Release(uint32_t n) {
    cachedCons += n;
    StoreRelease(consumer, cachedCons);
  }
  uint64_t *Addr(uint32_t idx) { return reinterpret_cast<uint64_t *>(desc) + (idx & mask); }
  struct xdp_desc *Desc(uint32_t idx) { return reinterpret_cast<struct xdp_desc *>(desc) + (idx & mask); }
  bool NeedWakeup() const { return flags != nullptr && (LoadAcquire(flags) & XDP_RING_NEED_WAKEUP) != 0; }
  // Kernel-side view: entries the producer published that the consumer has not taken yet.
  uint32_t Outstanding() const { return LoadAcquire(producer) - LoadAcquire(consumer); }
};

}  // namespace

class AfXdp : public SocketBase<AfXdp> {
 public:
  static Napi::Function Define(Napi::Env env) {
    std::vector<PropertyDescriptor> m = {
        InstanceMethod<&AfXdp::Rx>("rx"),
        InstanceMethod<&AfXdp::Fill>("fill"),
        InstanceMethod<&AfXdp::Bind>("bind"),
        InstanceMethod<&AfXdp::UmemOffset>("umem_offset"),
        InstanceMethod<&AfXdp::AttachTx>("attach_tx"),
        InstanceMethod<&AfXdp::TxAvail>("tx_avail"),
        InstanceMethod<&AfXdp::TxSubmit>("tx_submit"),
        InstanceMethod<&AfXdp::SetFilter>("set_filter"),
        InstanceMethod<&AfXdp::Stats>("stats"),
        InstanceMethod<&AfXdp::ZeroCopy>("zero_copy"),
        InstanceMethod<&AfXdp::Fd>("fd"),
        InstanceMethod<&AfXdp::CloseJs>("close"),
    };
    BaseMethods(m);
    return DefineClass(env, "AfXdp", m);
  }

  // new AfXdp(memory: Uint8Array, frameSize, numFrames, fillSize, compSize, rxSize, txSize, options, callback)
  explicit AfXdp(const Napi::CallbackInfo &info) : SocketBase<AfXdp>(info) {
    Napi::Env env = info.Env();
    memory_.Set(env, info[0], 1, "memory");
    frameSize_ = x::UintArg(info, 1);
    numFrames_ = x::UintArg(info, 2);
    const uint32_t fillSize = x::UintArg(info, 3), compSize = x::UintArg(info, 4);
    const uint32_t rxSize = x::UintArg(info, 5), txSize = x::UintArg(info, 6);
    opts_ = x::UintArg(info, 7);
    const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
    const uintptr_t p = reinterpret_cast<uintptr_t>(memory_.data);
    umemOffset_ = static_cast<uint32_t>((page - p % page) % page);
    const size_t umemLen = static_cast<size_t>(frameSize_) * numFrames_;
    if (umemOffset_ + umemLen > memory_.count) throw Napi::RangeError::New(env, "memory is too small for the UMEM");
    umem_ = memory_.data + umemOffset_;

    x::UniqueFd fd(::socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd) throw x::ErrnoError(env, errno, "socket(AF_XDP)");
    struct xdp_umem_reg reg;
    std::memset(&reg, 0, sizeof reg);  // all 32 bytes: padding was once read as tx_metadata_len
    reg.addr = reinterpret_cast<uint64_t>(umem_);
    reg.len = umemLen;
    reg.chunk_size = frameSize_;
    reg.headroom = 0;
    if (::setsockopt(fd.get(), SOL_XDP, XDP_UMEM_REG, &reg, sizeof reg) < 0) {
      throw x::ErrnoError(env, errno, "setsockopt(XDP_UMEM_REG)");
    }
    auto ringSize = [&](int opt, uint32_t n, const char *what) {
      if (n == 0) return;
      if (::setsockopt(fd.get(), SOL_XDP, opt, &n, sizeof n) < 0) throw x::ErrnoError(env, errno, what);
    };
    ringSize(XDP_UMEM_FILL_RING, fillSize, "setsockopt(XDP_UMEM_FILL_RING)");
    ringSize(XDP_UMEM_COMPLETION_RING, compSize, "setsockopt(XDP_UMEM_COMPLETION_RING)");
    ringSize(XDP_RX_RING, rxSize, "setsockopt(XDP_RX_RING)");
    ringSize(XDP_TX_RING, txSize, "setsockopt(XDP_TX_RING)");
    if (txSize > 0) {  // copy-mode TX sends at most this many frames per kick (default 32); best effort
      uint32_t budget = txSize;
      (void)::setsockopt(fd.get(), SOL_XDP, XDP_MAX_TX_SKB_BUDGET, &budget, sizeof budget);
    }
    struct xdp_mmap_offsets off;
    std::memset(&off, 0, sizeof off);
    socklen_t len = sizeof off;
    if (::getsockopt(fd.get(), SOL_XDP, XDP_MMAP_OFFSETS, &off, &len) < 0) {
      throw x::ErrnoError(env, errno, "getsockopt(XDP_MMAP_OFFSETS)");
    }
    try {
      fill_.Map(env, fd.get(), off.fr, fillSize, sizeof(uint64_t), XDP_UMEM_PGOFF_FILL_RING, true,
                "mmap(XDP_UMEM_PGOFF_FILL_RING)");
      comp_.Map(env, fd.get(), off.cr, compSize, sizeof(uint64_t), XDP_UMEM_PGOFF_COMPLETION_RING, false,
                "mmap(XDP_UMEM_PGOFF_COMPLETION_RING)");
      if (rxSize > 0) {
        rx_ring_.Map(env, fd.get(), off.rx, rxSize, sizeof(struct xdp_desc), XDP_PGOFF_RX_RING, false,
                     "mmap(XDP_PGOFF_RX_RING)");
      }
      if (txSize > 0) {
        tx_ring_.Map(env, fd.get(), off.tx, txSize, sizeof(struct xdp_desc), XDP_PGOFF_TX_RING, true,
                     "mmap(XDP_PGOFF_TX_RING)");
      }
    } catch (...) {
      UnmapRings();
      throw;
    }
    InitPoll(env, fd.get(), info[8], "x:nethuns:af_xdp");
    fd_ = std::move(fd);
  }

  ~AfXdp() override {
    ClosePoll();
    UnmapRings();
    fd_.reset();
  }

 private:
  void UnmapRings() {
    fill_.Unmap();
    comp_.Unmap();
    rx_ring_.Unmap();
    tx_ring_.Unmap();
  }

  uint8_t *FrameData(uint32_t frame) { return umem_ + static_cast<size_t>(frame) * frameSize_ + kHeadroom; }

  // Moves stash descriptors into the fill ring; the count moved.
  uint32_t Refill() {
    if (fill_.size == 0 || !rx_.Attached()) return 0;
    int32_t have = rx_.state.data[S_STASH];
    if (have <= 0) return 0;
    uint32_t n = fill_.Free(static_cast<uint32_t>(have));
    for (uint32_t i = 0; i < n; i++) {
      uint32_t d = rx_.stash.data[have - 1 - static_cast<int32_t>(i)];
      *fill_.Addr(fill_.cachedProd++) = static_cast<uint64_t>(d) * frameSize_;
    }
    if (n > 0) {
      rx_.state.data[S_STASH] = have - static_cast<int32_t>(n);
      fill_.Submit();
      inFill_ += n;
      if (needWakeup_ && fill_.NeedWakeup()) (void)::recvfrom(fd_.get(), nullptr, 0, MSG_DONTWAIT, nullptr, nullptr);
    }
    return n;
  }

  // A frame JS will never see (a BPF filter dropped it): back to the pool through `releases`.
  void Recycle(uint32_t frame) {
    if (releases_.data != nullptr && static_cast<size_t>(tx_.state()[S_COMPLETED]) < releases_.count) {
      releases_.data[tx_.state()[S_COMPLETED]++] = frame;
      return;
    }
    int32_t have = rx_.state.data[S_STASH];  // else into the stash (it has room: it just gave this frame away)
    if (static_cast<size_t>(have) < rx_.stash.count) {
      rx_.stash.data[have] = frame;
      rx_.state.data[S_STASH] = have + 1;
    }
  }

  int Drain() override { return Receive(rx_.Own()); }

  int Receive(RxShared::Out out) {
    if (fd_.get() < 0 || !rx_.Attached()) return 0;
    Refill();
    int32_t *state = rx_.state.data;
    uint32_t n = 0;
    if (rx_ring_.size > 0 && out.cap > 0) {
      uint32_t avail = rx_ring_.Avail(out.cap);
      struct timespec ts {};
      if (avail > 0 && (opts_ & OPT_TIMESTAMP)) clock_gettime(CLOCK_REALTIME_COARSE, &ts);
      for (uint32_t i = 0; i < avail; i++) {
        const struct xdp_desc *d = rx_ring_.Desc(rx_ring_.cachedCons + i);
        const uint32_t frame = static_cast<uint32_t>(d->addr / frameSize_);
        const uint32_t offset = static_cast<uint32_t>(d->addr % frameSize_);
        uint32_t len = d->len;
        inFill_--;
        if (frame >= numFrames_) continue;  // never: the kernel only returns our addresses
        uint8_t *data = FrameData(frame);
        if (offset != kHeadroom) {  // zero-copy drivers may choose another headroom: normalise
          if (len > frameSize_ - kHeadroom) len = frameSize_ - kHeadroom;
          std::memmove(data, umem_ + d->addr, len);
        }
#ifdef NETHUNS_HAVE_PCAP
        if (!filter_.empty() && lp::bpf_filter(filter_.data(), data, len, len) == 0) {
          rx_.Counter(C_FILTERED) += 1;
          Recycle(frame);
          continue;
        }
#endif
        uint32_t *m = out.meta + static_cast<size_t>(n) * META_WORDS;
        std::memset(m, 0, META_WORDS * sizeof(uint32_t));
        m[M_CAPLEN] = len;
        m[M_LEN] = len;
        m[M_SEC] = static_cast<uint32_t>(ts.tv_sec);
        m[M_NSEC] = static_cast<uint32_t>(ts.tv_nsec);
        out.descs[n++] = frame;
        rx_.Counter(C_BYTES) += len;
      }
      if (avail > 0) rx_ring_.Release(avail);
      rx_.Counter(C_RECEIVED) += n;
    }
    Refill();
    // No buffer left for the kernel and none in the stash: JS must wait for releases.
    state[S_STALLED] = (inFill_ == 0 && state[S_STASH] <= 0) ? 1 : 0;
    return static_cast<int>(n);
  }

  Napi::Value Rx(const Napi::CallbackInfo &info) {
    RxShared::Out out = OutArg(info, 1, rx_);
    uint32_t max = x::UintArg(info, 0);
    if (max < out.cap) out.cap = max;
    return Napi::Number::New(info.Env(), Receive(out));
  }

  // fill() -> descriptors moved from the stash into the fill ring
  Napi::Value Fill(const Napi::CallbackInfo &info) {
    uint32_t n = Refill();
    if (rx_.Attached()) rx_.state.data[S_STALLED] = (inFill_ == 0 && rx_.state.data[S_STASH] <= 0) ? 1 : 0;
    return Napi::Number::New(info.Env(), n);
  }

  // bind(ifindex, queue, flags) -> 0 or -errno (EBUSY right after a previous socket on the queue closed)
  Napi::Value Bind(const Napi::CallbackInfo &info) {
    struct sockaddr_xdp sxdp;
    std::memset(&sxdp, 0, sizeof sxdp);
    sxdp.sxdp_family = AF_XDP;
    sxdp.sxdp_ifindex = x::UintArg(info, 0);
    sxdp.sxdp_queue_id = x::UintArg(info, 1);
    sxdp.sxdp_flags = static_cast<uint16_t>(x::UintArg(info, 2));
    needWakeup_ = (sxdp.sxdp_flags & XDP_USE_NEED_WAKEUP) != 0;
    int r = ::bind(fd_.get(), reinterpret_cast<struct sockaddr *>(&sxdp), sizeof sxdp);
    return Napi::Number::New(info.Env(), r < 0 ? -errno : 0);
  }

  Napi::Value UmemOffset(const Napi::CallbackInfo &info) { return Napi::Number::New(info.Env(), umemOffset_); }

  // --- TX ------------------------------------------------------------------------------------------------------

  struct TxShared {
    Pinned<uint32_t> descs, lens;
    Pinned<int32_t> st;
    Pinned<double> counters;
    int32_t *state() { return st.data; }
  };

  // attach_tx(descs, lens, releases, state, counters): releases gets completed TX frames and filtered RX frames.
  Napi::Value AttachTx(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    tx_.descs.Set(env, info[0], 0, "descs");
    tx_.lens.Set(env, info[1], 0, "lens");
    releases_.Set(env, info[2], 1, "releases");
    tx_.st.Set(env, info[3], STATE_WORDS, "state");
    tx_.counters.Set(env, info[4], COUNTER_WORDS, "counters");
    return env.Undefined();
  }

  void Reap() {
    if (comp_.size == 0 || releases_.data == nullptr) return;
    int32_t *state = tx_.state();
    uint32_t room = static_cast<uint32_t>(releases_.count) - static_cast<uint32_t>(state[S_COMPLETED]);
    uint32_t n = comp_.Avail(room);
    for (uint32_t i = 0; i < n; i++) {
      releases_.data[state[S_COMPLETED]++] = static_cast<uint32_t>(*comp_.Addr(comp_.cachedCons + i) / frameSize_);
    }
    if (n > 0) {
      comp_.Release(n);
      tx_.counters.data[C_SENT] += n;
      txInflight_ -= n;
    }
  }

  // tx_avail() -> free TX ring slots (completions reaped first)
  Napi::Value TxAvail(const Napi::CallbackInfo &info) {
    if (tx_ring_.size == 0) return Napi::Number::New(info.Env(), 0);
    Reap();
    uint32_t free = tx_ring_.Free(tx_ring_.size);
    // The completion ring must have room for everything in flight.
    uint32_t compRoom = comp_.size > txInflight_ ? comp_.size - txInflight_ : 0;
    return Napi::Number::New(info.Env(), free < compRoom ? free : compRoom);
  }

  // Copy-mode TX runs inside sendto, a budget of frames per call: kick until the kernel took everything.
  int Kick() {
    for (int i = 0; i < 64; i++) {
      if (needWakeup_ && !tx_ring_.NeedWakeup()) return 0;
      ssize_t r = ::sendto(fd_.get(), nullptr, 0, MSG_DONTWAIT, nullptr, 0);
      if (r < 0 && errno != EAGAIN && errno != EBUSY && errno != ENOBUFS && errno != EINTR) return -errno;
      Reap();
      if (tx_ring_.Outstanding() == 0) return 0;
      if (r < 0 && errno == ENOBUFS) return 0;  // completion ring full: JS releases, then flushes again
    }
    return 0;
  }

  // tx_submit(n, kick) -> frames handed to the TX ring (a failed kick leaves its errno in S_TX_ERRNO)
  Napi::Value TxSubmit(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    uint32_t n = x::UintArg(info, 0);
    bool kick = x::IntArg(info, 1) != 0;
    if (tx_ring_.size == 0 || tx_.descs.data == nullptr) return Napi::Number::New(env, n == 0 ? 0 : -EBADF);
    if (n > tx_.descs.count) n = static_cast<uint32_t>(tx_.descs.count);
    n = tx_ring_.Free(n);
    const uint32_t maxLen = frameSize_ - kHeadroom;
    for (uint32_t k = 0; k < n; k++) {
      struct xdp_desc *d = tx_ring_.Desc(tx_ring_.cachedProd++);
      uint32_t len = tx_.lens.data[k];
      d->addr = static_cast<uint64_t>(tx_.descs.data[k]) * frameSize_ + kHeadroom;
      d->len = len > maxLen ? maxLen : len;
      d->options = 0;
      tx_.counters.data[C_TX_BYTES] += d->len;
    }
    if (n > 0) {
      tx_ring_.Submit();
      txInflight_ += n;
    }
    if (kick) {
      int r = Kick();
      tx_.state()[S_TX_ERRNO] = r < 0 ? -r : 0;
    } else {
      Reap();
    }
    return Napi::Number::New(env, n);
  }

  // set_filter(prog: Uint8Array | null): classic BPF run on each received frame (libpcap's bpf_filter)
  Napi::Value SetFilter(const Napi::CallbackInfo &info) {
#ifdef NETHUNS_HAVE_PCAP
    filter_.clear();
    if (info[0].IsTypedArray() && !lp::Load()) throw Napi::Error::New(info.Env(), "BPF filters need libpcap");
    if (info[0].IsTypedArray()) {
      x::Bytes b = x::ViewOf(info.Env(), info[0]);
      filter_.resize(b.length / sizeof(struct bpf_insn));
      std::memcpy(filter_.data(), b.data, filter_.size() * sizeof(struct bpf_insn));
    }
    return info.Env().Undefined();
#else
    throw Napi::Error::New(info.Env(), "BPF filters need libpcap");
#endif
  }

  // stats(): XDP_STATISTICS counts since the socket opened (not reset on read).
  Napi::Value Stats(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (!fd_ || rx_.counters.data == nullptr) return env.Undefined();
    struct xdp_statistics st;
    std::memset(&st, 0, sizeof st);
    socklen_t len = sizeof st;
    if (::getsockopt(fd_.get(), SOL_XDP, XDP_STATISTICS, &st, &len) < 0) {
      throw x::ErrnoError(env, errno, "getsockopt(XDP_STATISTICS)");
    }
    rx_.Counter(C_KERNEL_DROPS) = static_cast<double>(st.rx_dropped + st.rx_ring_full);
    rx_.Counter(C_RX_INVALID) = static_cast<double>(st.rx_invalid_descs);
    rx_.Counter(C_TX_INVALID) = static_cast<double>(st.tx_invalid_descs);
    rx_.Counter(C_FILL_EMPTY) = static_cast<double>(st.rx_fill_ring_empty_descs);
    return env.Undefined();
  }

  // zero_copy() -> XDP_OPTIONS says the socket is in zero-copy mode
  Napi::Value ZeroCopy(const Napi::CallbackInfo &info) {
    struct xdp_options o {};
    socklen_t len = sizeof o;
    if (::getsockopt(fd_.get(), SOL_XDP, XDP_OPTIONS, &o, &len) < 0) {
      throw x::ErrnoError(info.Env(), errno, "getsockopt(XDP_OPTIONS)");
    }
    return Napi::Boolean::New(info.Env(), (o.flags & XDP_OPTIONS_ZEROCOPY) != 0);
  }

  Napi::Value Fd(const Napi::CallbackInfo &info) { return Napi::Number::New(info.Env(), fd_.get()); }

  Napi::Value CloseJs(const Napi::CallbackInfo &info) {
    ClosePoll();
    UnmapRings();
    fd_.reset();  // the kernel unpins the UMEM pages; the SharedArrayBuffer stays valid for held payloads
    rx_.Reset();
    tx_.descs.Reset();
    tx_.lens.Reset();
    tx_.st.Reset();
    tx_.counters.Reset();
    releases_.Reset();
    memory_.Reset();
    return info.Env().Undefined();
  }

  x::UniqueFd fd_;
  Pinned<uint8_t> memory_;
  uint8_t *umem_ = nullptr;
  uint32_t umemOffset_ = 0, frameSize_ = 0, numFrames_ = 0, opts_ = 0;
  Ring fill_, comp_, rx_ring_, tx_ring_;
  uint32_t inFill_ = 0, txInflight_ = 0;
  bool needWakeup_ = false;
  TxShared tx_;
  Pinned<uint32_t> releases_;
#ifdef NETHUNS_HAVE_PCAP
  std::vector<struct bpf_insn> filter_;
#endif
};

void InitAfXdp(Napi::Env env, Napi::Object exports) {
  exports.Set("AfXdp", AfXdp::Define(env));
  Napi::Object c = exports.Get("constants").As<Napi::Object>();
  c.Set("XDP_HEADROOM", Napi::Number::New(env, kHeadroom));
  c.Set("XDP_OPT_TIMESTAMP", Napi::Number::New(env, OPT_TIMESTAMP));
  c.Set("XDP_COPY", Napi::Number::New(env, XDP_COPY));
  c.Set("XDP_ZEROCOPY", Napi::Number::New(env, XDP_ZEROCOPY));
  c.Set("XDP_USE_NEED_WAKEUP", Napi::Number::New(env, XDP_USE_NEED_WAKEUP));
  c.Set("XDP_SHARED_UMEM", Napi::Number::New(env, XDP_SHARED_UMEM));
  c.Set("XDP_FLAGS_SKB_MODE_NH", Napi::Number::New(env, XDP_FLAGS_SKB_MODE));
  c.Set("XDP_FLAGS_DRV_MODE_NH", Napi::Number::New(env, XDP_FLAGS_DRV_MODE));
}

}  // namespace nethuns
