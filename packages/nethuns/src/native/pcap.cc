// pcap: libpcap live captures (pcap_create … pcap_activate, non-blocking, selectable fd polled with uv_poll) and
// offline files (pcap and pcapng, nanosecond precision). Each packet is copied from libpcap's private buffer into a
// Context buffer taken from the stash; transmission is pcap_inject of frames JS staged in an ArrayBuffer.
#include "libpcap.h"

#include <string>

#include "binding.h"
#include "socket_base.h"

namespace nethuns {

namespace {

enum Direction : int { DIR_INOUT = 0, DIR_IN = 1, DIR_OUT = 2 };

Napi::Error PcapError(Napi::Env env, int status, const std::string &what, const std::string &text) {
  std::string msg = what + ": " + (text.empty() ? lp::pcap_statustostr(status) : text);
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("code", Napi::String::New(env, "ERR_NETHUNS_PCAP"));
  e.Set("status", Napi::Number::New(env, status));
  e.Set("syscall", Napi::String::New(env, what));
  return e;
}

}  // namespace

class Pcap : public SocketBase<Pcap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    std::vector<PropertyDescriptor> m = {
        InstanceMethod<&Pcap::Rx>("rx"),
        InstanceMethod<&Pcap::AttachTx>("attach_tx"),
        InstanceMethod<&Pcap::TxAvail>("tx_avail"),
        InstanceMethod<&Pcap::TxSubmit>("tx_submit"),
        InstanceMethod<&Pcap::Stats>("stats"),
        InstanceMethod<&Pcap::Fd>("fd"),
        InstanceMethod<&Pcap::Datalink>("datalink"),
        InstanceMethod<&Pcap::LastError>("last_error"),
        InstanceMethod<&Pcap::CloseJs>("close"),
    };
    BaseMethods(m);
    return DefineClass(env, "Pcap", m);
  }

  // new Pcap(source, offline, snaplen, promisc, timeoutMs, immediate, bufferSize, direction, filter|null, callback)
  explicit Pcap(const Napi::CallbackInfo &info) : SocketBase<Pcap>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsString()) throw Napi::TypeError::New(env, "source must be a string");
    std::string source = info[0].As<Napi::String>().Utf8Value();
    offline_ = x::IntArg(info, 1) != 0;
    const int snaplen = x::IntArg(info, 2), promisc = x::IntArg(info, 3), timeout = x::IntArg(info, 4);
    const int immediate = x::IntArg(info, 5), bufferSize = x::IntArg(info, 6), direction = x::IntArg(info, 7);
    char err[PCAP_ERRBUF_SIZE] = {0};

    if (offline_) {
      p_ = lp::pcap_open_offline_with_tstamp_precision(source.c_str(), PCAP_TSTAMP_PRECISION_NANO, err);
      if (p_ == nullptr) throw PcapError(env, PCAP_ERROR, "pcap_open_offline", err);
      nano_ = lp::pcap_get_tstamp_precision(p_) == PCAP_TSTAMP_PRECISION_NANO;
    } else {
      p_ = lp::pcap_create(source.c_str(), err);
      if (p_ == nullptr) throw PcapError(env, PCAP_ERROR, "pcap_create", err);
      lp::pcap_set_snaplen(p_, snaplen);
      lp::pcap_set_promisc(p_, promisc);
      lp::pcap_set_timeout(p_, timeout);
      lp::pcap_set_immediate_mode(p_, immediate);
      if (bufferSize > 0) lp::pcap_set_buffer_size(p_, bufferSize);
      nano_ = lp::pcap_set_tstamp_precision(p_, PCAP_TSTAMP_PRECISION_NANO) == 0;
      int st = lp::pcap_activate(p_);
      if (st < 0) {
        std::string text = (st == PCAP_ERROR) ? lp::pcap_geterr(p_) : std::string(lp::pcap_statustostr(st));
        if (st != PCAP_ERROR && std::string(lp::pcap_geterr(p_)).size() > 0) text += std::string(" (") + lp::pcap_geterr(p_) + ")";
        lp::pcap_close(p_);
        p_ = nullptr;
        throw PcapError(env, st, "pcap_activate", text);
      }
      if (lp::pcap_setnonblock(p_, 1, err) < 0) Fail(env, "pcap_setnonblock", err);
      if (direction != DIR_INOUT) {
        if (lp::pcap_setdirection(p_, direction == DIR_IN ? PCAP_D_IN : PCAP_D_OUT) < 0) {
          Fail(env, "pcap_setdirection", lp::pcap_geterr(p_));
        }
      }
    }
    if (info[8].IsString()) {
      std::string expr = info[8].As<Napi::String>().Utf8Value();
      struct bpf_program prog {};
      if (lp::pcap_compile(p_, &prog, expr.c_str(), 1, PCAP_NETMASK_UNKNOWN) < 0) {
        Napi::Error e = PcapError(env, PCAP_ERROR, "pcap_compile", lp::pcap_geterr(p_));
        e.Set("code", Napi::String::New(env, "ERR_NETHUNS_BPF"));
        Close();
        throw e;
      }
      int r = lp::pcap_setfilter(p_, &prog);
      lp::pcap_freecode(&prog);
      if (r < 0) Fail(env, "pcap_setfilter", lp::pcap_geterr(p_));
    }
    Napi::Value cb = info[9];
    if (!offline_) {
      fd_ = lp::pcap_get_selectable_fd(p_);
      if (fd_ < 0) Fail(env, "pcap_get_selectable_fd", "no selectable fd");
      InitPoll(env, fd_, cb, "x:nethuns:pcap");
    } else {
      // Files are always readable: no poll handle (JS schedules its own wake-ups).
      if (!cb.IsFunction()) throw Napi::TypeError::New(env, "callback must be a function");
    }
  }

  ~Pcap() override { Close(); }

 private:
  [[noreturn]] void Fail(Napi::Env env, const char *what, const std::string &text) {
    Napi::Error e = PcapError(env, PCAP_ERROR, what, text);
    Close();
    throw e;
  }

  void Close() {
    ClosePoll();
    if (p_ != nullptr) {
      lp::pcap_close(p_);
      p_ = nullptr;
    }
    fd_ = -1;
  }

  int Drain() override { return Receive(rx_.Own()); }

  int Receive(RxShared::Out out) {
    if (p_ == nullptr || !rx_.Attached()) return 0;
    int32_t *state = rx_.state.data;
    state[S_STALLED] = 0;
    uint32_t n = 0;
    while (n < out.cap) {
      if (state[S_STASH] <= 0) {
        state[S_STALLED] = 1;
        break;
      }
      struct pcap_pkthdr *h = nullptr;
      const u_char *data = nullptr;
      int r = lp::pcap_next_ex(p_, &h, &data);
      if (r == 0) break;
      if (r == PCAP_ERROR_BREAK) {
        state[S_EOF] = 1;
        break;
      }
      if (r < 0) {
        lastError_ = lp::pcap_geterr(p_);
        if (n > 0) break;
        return -EIO;
      }
      uint32_t desc;
      if (!rx_.Take(&desc)) {  // cannot happen (checked above), but never write without a buffer
        state[S_STALLED] = 1;
        break;
      }
      uint32_t cap = h->caplen, info = 0;
      if (cap > rx_.bufSize) {
        cap = rx_.bufSize;
        info |= INFO_TRUNCATED;
      } else if (h->caplen < h->len) {
        info |= INFO_TRUNCATED;
      }
      std::memcpy(rx_.Buffer(desc), data, cap);
      uint32_t *m = out.meta + static_cast<size_t>(n) * META_WORDS;
      std::memset(m, 0, META_WORDS * sizeof(uint32_t));
      m[M_CAPLEN] = cap;
      m[M_LEN] = h->len;
      m[M_SEC] = static_cast<uint32_t>(h->ts.tv_sec);
      m[M_NSEC] = static_cast<uint32_t>(nano_ ? h->ts.tv_usec : h->ts.tv_usec * 1000);
      m[M_INFO] = info;
      out.descs[n++] = desc;
      rx_.Counter(C_BYTES) += cap;
    }
    rx_.Counter(C_RECEIVED) += n;
    return static_cast<int>(n);
  }

  Napi::Value Rx(const Napi::CallbackInfo &info) {
    RxShared::Out out = OutArg(info, 1, rx_);
    uint32_t max = x::UintArg(info, 0);
    if (max < out.cap) out.cap = max;
    return Napi::Number::New(info.Env(), Receive(out));
  }

  // attach_tx(staging: Uint8Array, frameSize, lens: Uint32Array, counters)
  Napi::Value AttachTx(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    staging_.Set(env, info[0], 1, "staging");
    txFrameSize_ = x::UintArg(info, 1);
    lens_.Set(env, info[2], 1, "lens");
    txCounters_.Set(env, info[3], COUNTER_WORDS, "counters");
    txFrames_ = static_cast<uint32_t>(staging_.count / txFrameSize_);
    if (txFrames_ > lens_.count) txFrames_ = static_cast<uint32_t>(lens_.count);
    return env.Undefined();
  }

  Napi::Value TxAvail(const Napi::CallbackInfo &info) {
    return Napi::Number::New(info.Env(), p_ == nullptr || offline_ ? 0 : txFrames_);
  }

  // tx_submit(n, kick) -> frames injected, or -errno when the first one failed
  Napi::Value TxSubmit(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    uint32_t n = x::UintArg(info, 0);
    if (p_ == nullptr || staging_.data == nullptr) return Napi::Number::New(env, n == 0 ? 0 : -EBADF);
    if (n > txFrames_) n = txFrames_;
    uint32_t k = 0;
    for (; k < n; k++) {
      uint32_t len = lens_.data[k];
      if (len > txFrameSize_) len = txFrameSize_;
      int r = lp::pcap_inject(p_, staging_.data + static_cast<size_t>(k) * txFrameSize_, len);
      if (r < 0) {
        lastError_ = lp::pcap_geterr(p_);
        if (k == 0) return Napi::Number::New(env, -EIO);
        break;
      }
      txCounters_.data[C_SENT] += 1;
      txCounters_.data[C_TX_BYTES] += len;
    }
    return Napi::Number::New(env, k);
  }

  // stats(): libpcap's counters are cumulative (not reset on read).
  Napi::Value Stats(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (p_ == nullptr || offline_ || rx_.counters.data == nullptr) return env.Undefined();
    struct pcap_stat st {};
    if (lp::pcap_stats(p_, &st) == 0) {
      rx_.Counter(C_KERNEL_SEEN) = st.ps_recv;
      rx_.Counter(C_KERNEL_DROPS) = st.ps_drop;
      rx_.Counter(C_IF_DROPS) = st.ps_ifdrop;
    }
    return env.Undefined();
  }

  Napi::Value Fd(const Napi::CallbackInfo &info) { return Napi::Number::New(info.Env(), fd_); }
  Napi::Value Datalink(const Napi::CallbackInfo &info) {
    return Napi::Number::New(info.Env(), p_ == nullptr ? -1 : lp::pcap_datalink(p_));
  }
  Napi::Value LastError(const Napi::CallbackInfo &info) { return Napi::String::New(info.Env(), lastError_); }

  Napi::Value CloseJs(const Napi::CallbackInfo &info) {
    Close();
    rx_.Reset();
    staging_.Reset();
    lens_.Reset();
    txCounters_.Reset();
    return info.Env().Undefined();
  }

  pcap_t *p_ = nullptr;
  int fd_ = -1;
  bool offline_ = false;
  bool nano_ = false;
  std::string lastError_;
  Pinned<uint8_t> staging_;
  Pinned<uint32_t> lens_;
  Pinned<double> txCounters_;
  uint32_t txFrameSize_ = 0, txFrames_ = 0;
};

void InitPcap(Napi::Env env, Napi::Object exports) {
  exports.Set("Pcap", Pcap::Define(env));
  Napi::Object c = exports.Get("constants").As<Napi::Object>();
  c.Set("PCAP_DIR_INOUT", Napi::Number::New(env, DIR_INOUT));
  c.Set("PCAP_DIR_IN", Napi::Number::New(env, DIR_IN));
  c.Set("PCAP_DIR_OUT", Napi::Number::New(env, DIR_OUT));
  c.Set("PCAP_ERROR_NO_SUCH_DEVICE", Napi::Number::New(env, PCAP_ERROR_NO_SUCH_DEVICE));
  c.Set("PCAP_ERROR_PERM_DENIED", Napi::Number::New(env, PCAP_ERROR_PERM_DENIED));
  c.Set("PCAP_ERROR_IFACE_NOT_UP", Napi::Number::New(env, PCAP_ERROR_IFACE_NOT_UP));
  c.Set("PCAP_ERROR_PROMISC_PERM_DENIED", Napi::Number::New(env, PCAP_ERROR_PROMISC_PERM_DENIED));
}

}  // namespace nethuns
