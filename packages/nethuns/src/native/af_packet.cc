// af_packet: one AF_PACKET socket with a TPACKET_V3 RX ring and a TPACKET_V3 TX ring in one mapping.
// RX walks blocks in order, copies each frame into a Context buffer taken from the stash, and hands the block back
// to the kernel as soon as its last frame is copied (so held payloads never pin a block). TX frames are written by
// JS through an external ArrayBuffer over the mapping; native code owns every status word (acquire/release).
#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "binding.h"
#include "socket_base.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

namespace nethuns {

namespace {

// Bits of the `options` constructor argument (exported as AFP_OPT_*).
enum Options : uint32_t {
  OPT_RX = 1u << 0,
  OPT_TX = 1u << 1,
  OPT_QDISC_BYPASS = 1u << 2,
  OPT_PROMISC = 1u << 3,
  OPT_RXHASH = 1u << 4,
  OPT_DIR_IN = 1u << 5,   // deliver PACKET_OUTGOING frames? no: ignore them (and ask the kernel not to queue them)
  OPT_DIR_OUT = 1u << 6,  // deliver only PACKET_OUTGOING frames
  OPT_FANOUT = 1u << 7,
  OPT_TX_LOSS = 1u << 8,  // PACKET_LOSS: the kernel skips malformed TX frames instead of stopping
};

constexpr uint32_t kV3HdrLen = TPACKET_ALIGN(sizeof(struct tpacket3_hdr));                  // 48
constexpr uint32_t kTxDataOffset = TPACKET3_HDRLEN - sizeof(struct sockaddr_ll);            // 48

void SetInt(Napi::Env env, int fd, int level, int name, int value, const char *what) {
  if (::setsockopt(fd, level, name, &value, sizeof value) < 0) throw x::ErrnoError(env, errno, what);
}

}  // namespace

class AfPacket : public SocketBase<AfPacket> {
 public:
  static Napi::Function Define(Napi::Env env) {
    std::vector<PropertyDescriptor> m = {
        InstanceMethod<&AfPacket::Rx>("rx"),
        InstanceMethod<&AfPacket::Mapping>("mapping"),
        InstanceMethod<&AfPacket::AttachTx>("attach_tx"),
        InstanceMethod<&AfPacket::TxAvail>("tx_avail"),
        InstanceMethod<&AfPacket::TxSubmit>("tx_submit"),
        InstanceMethod<&AfPacket::Stats>("stats"),
        InstanceMethod<&AfPacket::Fd>("fd"),
        InstanceMethod<&AfPacket::CloseJs>("close"),
    };
    BaseMethods(m);
    return DefineClass(env, "AfPacket", m);
  }

  // new AfPacket(ifindex, rxBlockSize, rxBlockNr, rxFrameSize, retireTovMs, txFrameSize, txFrameNr, txBlockSize,
  //              options, fanoutArg, filter: Uint8Array | null, callback)
  explicit AfPacket(const Napi::CallbackInfo &info) : SocketBase<AfPacket>(info) {
    Napi::Env env = info.Env();
    const int ifindex = x::IntArg(info, 0);
    const uint32_t rxBlockSize = x::UintArg(info, 1), rxBlockNr = x::UintArg(info, 2);
    const uint32_t rxFrameSize = x::UintArg(info, 3), tov = x::UintArg(info, 4);
    const uint32_t txFrameSize = x::UintArg(info, 5), txFrameNr = x::UintArg(info, 6);
    const uint32_t txBlockSize = x::UintArg(info, 7);
    opts_ = x::UintArg(info, 8);
    const int fanoutArg = x::IntArg(info, 9);
    const bool rx = (opts_ & OPT_RX) != 0, tx = (opts_ & OPT_TX) != 0;

    // Protocol 0 until bind: an ETH_P_ALL socket would queue frames of every interface into the ring meanwhile.
    x::UniqueFd fd(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd) throw x::ErrnoError(env, errno, "socket(AF_PACKET)");
    SetInt(env, fd.get(), SOL_PACKET, PACKET_VERSION, TPACKET_V3, "setsockopt(PACKET_VERSION)");

    if (rx) {
      struct tpacket_req3 req {};
      req.tp_block_size = rxBlockSize;
      req.tp_block_nr = rxBlockNr;
      req.tp_frame_size = rxFrameSize;
      req.tp_frame_nr = (rxBlockSize / rxFrameSize) * rxBlockNr;
      req.tp_retire_blk_tov = tov;
      req.tp_feature_req_word = (opts_ & OPT_RXHASH) ? TP_FT_REQ_FILL_RXHASH : 0;
      if (::setsockopt(fd.get(), SOL_PACKET, PACKET_RX_RING, &req, sizeof req) < 0) {
        throw x::ErrnoError(env, errno, "setsockopt(PACKET_RX_RING)");
      }
      rxBlockSize_ = rxBlockSize;
      rxBlockNr_ = rxBlockNr;
    }
    if (tx) {
      if (opts_ & OPT_TX_LOSS) SetInt(env, fd.get(), SOL_PACKET, PACKET_LOSS, 1, "setsockopt(PACKET_LOSS)");
      struct tpacket_req3 req {};
      req.tp_block_size = txBlockSize;
      req.tp_frame_size = txFrameSize;
      req.tp_frame_nr = txFrameNr;
      req.tp_block_nr = static_cast<uint32_t>(static_cast<uint64_t>(txFrameNr) * txFrameSize / txBlockSize);
      if (::setsockopt(fd.get(), SOL_PACKET, PACKET_TX_RING, &req, sizeof req) < 0) {
        throw x::ErrnoError(env, errno, "setsockopt(PACKET_TX_RING)");
      }
      txFrameSize_ = txFrameSize;
      txFrameNr_ = txFrameNr;
      if (opts_ & OPT_QDISC_BYPASS) {
        SetInt(env, fd.get(), SOL_PACKET, PACKET_QDISC_BYPASS, 1, "setsockopt(PACKET_QDISC_BYPASS)");
      }
    }
    if (rx && (opts_ & OPT_DIR_IN)) {
      // Best effort (Linux >= 4.20); the walk skips PACKET_OUTGOING frames anyway.
      int one = 1;
      (void)::setsockopt(fd.get(), SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
    }
    if (rx && info.Length() > 10 && info[10].IsTypedArray()) {
      x::Bytes prog = x::ViewOf(env, info[10]);
      struct sock_fprog fp {};
      fp.len = static_cast<unsigned short>(prog.length / sizeof(struct sock_filter));
      fp.filter = reinterpret_cast<struct sock_filter *>(prog.data);
      if (::setsockopt(fd.get(), SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof fp) < 0) {
        throw x::ErrnoError(env, errno, "setsockopt(SO_ATTACH_FILTER)");
      }
    }

    mapLen_ = static_cast<size_t>(rxBlockSize_) * rxBlockNr_ + static_cast<size_t>(txFrameSize_) * txFrameNr_;
    if (mapLen_ > 0) {
      void *p = ::mmap(nullptr, mapLen_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd.get(), 0);
      if (p == MAP_FAILED) throw x::ErrnoError(env, errno, "mmap(PACKET_RX_RING)");
      map_ = static_cast<uint8_t *>(p);
      // The ArrayBuffer owns the mapping from here (munmap after detach on close, or on GC).
      mapping_ = Napi::Persistent(x::WrapMapping(env, p, mapLen_));
      txRing_ = map_ + static_cast<size_t>(rxBlockSize_) * rxBlockNr_;
    }

    struct sockaddr_ll sll {};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = rx ? htons(ETH_P_ALL) : 0;
    sll.sll_ifindex = ifindex;
    if (::bind(fd.get(), reinterpret_cast<struct sockaddr *>(&sll), sizeof sll) < 0) {
      int e = errno;
      Unmap(env);
      throw x::ErrnoError(env, e, "bind(AF_PACKET)");
    }
    if (opts_ & OPT_FANOUT) {
      if (::setsockopt(fd.get(), SOL_PACKET, PACKET_FANOUT, &fanoutArg, sizeof fanoutArg) < 0) {
        int e = errno;
        Unmap(env);
        throw x::ErrnoError(env, e, "setsockopt(PACKET_FANOUT)");
      }
    }
    if (opts_ & OPT_PROMISC) {
      struct packet_mreq mr {};
      mr.mr_ifindex = ifindex;
      mr.mr_type = PACKET_MR_PROMISC;
      if (::setsockopt(fd.get(), SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr) < 0) {
        int e = errno;
        Unmap(env);
        throw x::ErrnoError(env, e, "setsockopt(PACKET_ADD_MEMBERSHIP)");
      }
    }
    InitPoll(env, fd.get(), info[11], "x:nethuns:af_packet");
    fd_ = std::move(fd);
  }

  ~AfPacket() override {
    ClosePoll();
    fd_.reset();
  }

 private:
  // --- RX ------------------------------------------------------------------------------------------------------

  int Drain() override { return Receive(rx_.Own()); }

  // Walks ready blocks, copying up to out.cap frames into stash buffers. Returns the count.
  int Receive(RxShared::Out out) {
    if (map_ == nullptr || rxBlockNr_ == 0 || !rx_.Attached()) return 0;
    uint32_t n = 0;
    int32_t *state = rx_.state.data;
    state[S_STALLED] = 0;
    while (n < out.cap) {
      auto *bd = reinterpret_cast<struct tpacket_block_desc *>(map_ + static_cast<size_t>(block_) * rxBlockSize_);
      if (left_ == 0) {
        if (open_) {  // every frame of this block is copied: give it back, move on
          StoreRelease(&bd->hdr.bh1.block_status, static_cast<uint32_t>(TP_STATUS_KERNEL));
          open_ = false;
          block_ = (block_ + 1) % rxBlockNr_;
          continue;
        }
        if ((LoadAcquire(&bd->hdr.bh1.block_status) & TP_STATUS_USER) == 0) break;
        open_ = true;
        left_ = bd->hdr.bh1.num_pkts;
        pkt_ = reinterpret_cast<uint8_t *>(bd) + bd->hdr.bh1.offset_to_first_pkt;
        continue;
      }
      auto *h = reinterpret_cast<struct tpacket3_hdr *>(pkt_);
      auto *sll = reinterpret_cast<struct sockaddr_ll *>(pkt_ + kV3HdrLen);
      const bool outgoing = sll->sll_pkttype == PACKET_OUTGOING;
      if (((opts_ & OPT_DIR_IN) && outgoing) || ((opts_ & OPT_DIR_OUT) && !outgoing)) {
        Advance(h);
        continue;
      }
      uint32_t desc;
      if (!rx_.Take(&desc)) {
        state[S_STALLED] = 1;
        break;
      }
      uint32_t cap = h->tp_snaplen;
      uint32_t info = sll->sll_pkttype;
      if (cap > rx_.bufSize) {
        cap = rx_.bufSize;
        info |= INFO_TRUNCATED;
      }
      std::memcpy(rx_.Buffer(desc), pkt_ + h->tp_mac, cap);
      if (h->tp_status & TP_STATUS_VLAN_VALID) info |= INFO_VLAN;
      if (h->tp_status & TP_STATUS_VLAN_TPID_VALID) info |= INFO_VLAN_TPID;
      uint32_t *m = out.meta + static_cast<size_t>(n) * META_WORDS;
      m[M_CAPLEN] = cap;
      m[M_LEN] = h->tp_len;
      m[M_SEC] = h->tp_sec;
      m[M_NSEC] = h->tp_nsec;
      m[M_RXHASH] = h->hv1.tp_rxhash;
      m[M_VLAN_TCI] = h->hv1.tp_vlan_tci;
      m[M_VLAN_TPID] = h->hv1.tp_vlan_tpid;
      m[M_INFO] = info;
      out.descs[n++] = desc;
      rx_.Counter(C_BYTES) += cap;
      Advance(h);
    }
    // Hand a finished block back now rather than at the next call.
    if (left_ == 0 && open_) {
      auto *bd = reinterpret_cast<struct tpacket_block_desc *>(map_ + static_cast<size_t>(block_) * rxBlockSize_);
      StoreRelease(&bd->hdr.bh1.block_status, static_cast<uint32_t>(TP_STATUS_KERNEL));
      open_ = false;
      block_ = (block_ + 1) % rxBlockNr_;
    }
    rx_.Counter(C_RECEIVED) += n;
    return static_cast<int>(n);
  }

  void Advance(struct tpacket3_hdr *h) {
    left_--;
    pkt_ += h->tp_next_offset;
  }

  // rx(max, descs?, meta?) -> count
  Napi::Value Rx(const Napi::CallbackInfo &info) {
    RxShared::Out out = OutArg(info, 1, rx_);
    uint32_t max = x::UintArg(info, 0);
    if (max < out.cap) out.cap = max;
    return Napi::Number::New(info.Env(), Receive(out));
  }

  // --- TX ------------------------------------------------------------------------------------------------------

  uint8_t *Frame(uint32_t i) { return txRing_ + static_cast<size_t>(i) * txFrameSize_; }

  // Frames the kernel is done with, oldest first: count them sent (or refused) and make them writable again.
  void Reap() {
    while (txInflight_ > 0) {
      auto *h = reinterpret_cast<struct tpacket3_hdr *>(Frame(txDone_));
      uint32_t st = LoadAcquire(&h->tp_status);
      if (st == TP_STATUS_AVAILABLE) {
        if (tx_.counters.data != nullptr) {
          tx_.counters.data[C_SENT] += 1;
          tx_.counters.data[C_TX_BYTES] += h->tp_len;
        }
      } else if (st & TP_STATUS_WRONG_FORMAT) {
        if (tx_.counters.data != nullptr) tx_.counters.data[C_TX_INVALID] += 1;
        StoreRelease(&h->tp_status, static_cast<uint32_t>(TP_STATUS_AVAILABLE));
      } else {
        break;
      }
      txDone_ = (txDone_ + 1) % txFrameNr_;
      txInflight_--;
    }
  }

  // attach_tx(lens: Uint32Array(txFrameNr), state, counters)
  Napi::Value AttachTx(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    tx_.lens.Set(env, info[0], txFrameNr_, "lens");
    tx_.state.Set(env, info[1], STATE_WORDS, "state");
    tx_.counters.Set(env, info[2], COUNTER_WORDS, "counters");
    tx_.state.data[S_TX_NEXT] = static_cast<int32_t>(txNext_);
    return env.Undefined();
  }

  // tx_avail() -> frames JS may write from S_TX_NEXT on
  Napi::Value TxAvail(const Napi::CallbackInfo &info) {
    if (txRing_ == nullptr || txFrameNr_ == 0) return Napi::Number::New(info.Env(), 0);
    Reap();
    return Napi::Number::New(info.Env(), txFrameNr_ - txInflight_);
  }

  // tx_submit(n, kick) -> n submitted (a failed sendto leaves its errno in S_TX_ERRNO)
  Napi::Value TxSubmit(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    uint32_t n = x::UintArg(info, 0);
    bool kick = x::IntArg(info, 1) != 0;
    if (txRing_ == nullptr || tx_.lens.data == nullptr) return Napi::Number::New(env, -EBADF);
    if (n > txFrameNr_ - txInflight_) n = txFrameNr_ - txInflight_;
    const uint32_t maxLen = txFrameSize_ - kTxDataOffset;
    for (uint32_t k = 0; k < n; k++) {
      auto *h = reinterpret_cast<struct tpacket3_hdr *>(Frame((txNext_ + k) % txFrameNr_));
      uint32_t len = tx_.lens.data[k];
      if (len > maxLen) len = maxLen;
      h->tp_len = len;
      h->tp_snaplen = len;
      h->tp_next_offset = 0;
      StoreRelease(&h->tp_status, static_cast<uint32_t>(TP_STATUS_SEND_REQUEST));
    }
    txNext_ = (txNext_ + n) % txFrameNr_;
    txInflight_ += n;
    tx_.state.data[S_TX_NEXT] = static_cast<int32_t>(txNext_);
    if (kick) {
      ssize_t r = ::sendto(fd_.get(), nullptr, 0, MSG_DONTWAIT, nullptr, 0);
      tx_.state.data[S_TX_ERRNO] = (r < 0 && errno != EAGAIN && errno != ENOBUFS && errno != EINTR) ? errno : 0;
    }
    Reap();
    return Napi::Number::New(env, n);
  }

  // --- control -------------------------------------------------------------------------------------------------

  // mapping() -> the ArrayBuffer over the whole mapping (RX blocks, then TX frames), or null
  Napi::Value Mapping(const Napi::CallbackInfo &info) {
    if (mapping_.IsEmpty()) return info.Env().Null();
    return mapping_.Value();
  }

  // stats(counters): PACKET_STATISTICS resets on every read, so it is accumulated here.
  Napi::Value Stats(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (!fd_ || (opts_ & OPT_RX) == 0 || rx_.counters.data == nullptr) return env.Undefined();
    struct tpacket_stats_v3 st {};
    socklen_t len = sizeof st;
    if (::getsockopt(fd_.get(), SOL_PACKET, PACKET_STATISTICS, &st, &len) < 0) {
      throw x::ErrnoError(env, errno, "getsockopt(PACKET_STATISTICS)");
    }
    rx_.Counter(C_KERNEL_SEEN) += st.tp_packets;
    rx_.Counter(C_KERNEL_DROPS) += st.tp_drops;
    rx_.Counter(C_FREEZE) += st.tp_freeze_q_cnt;
    return env.Undefined();
  }

  Napi::Value Fd(const Napi::CallbackInfo &info) { return Napi::Number::New(info.Env(), fd_.get()); }

  void Unmap(Napi::Env env) {
    if (!mapping_.IsEmpty()) {
      x::UnmapArrayBuffer(env, mapping_.Value());
      mapping_.Reset();
    }
    map_ = txRing_ = nullptr;
  }

  // close(): stop polling, detach + munmap, close the fd. Idempotent.
  Napi::Value CloseJs(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    ClosePoll();
    Unmap(env);
    rx_.Reset();
    tx_.lens.Reset();
    tx_.state.Reset();
    tx_.counters.Reset();
    fd_.reset();
    return env.Undefined();
  }

  struct TxShared {
    Pinned<uint32_t> lens;
    Pinned<int32_t> state;
    Pinned<double> counters;
  };

  x::UniqueFd fd_;
  uint32_t opts_ = 0;
  uint8_t *map_ = nullptr;
  size_t mapLen_ = 0;
  Napi::Reference<Napi::ArrayBuffer> mapping_;
  // RX cursor: current block, frames left in it, next frame.
  uint32_t rxBlockSize_ = 0, rxBlockNr_ = 0;
  uint32_t block_ = 0, left_ = 0;
  bool open_ = false;
  uint8_t *pkt_ = nullptr;
  // TX ring: frames [txDone_, txNext_) are in flight.
  uint8_t *txRing_ = nullptr;
  uint32_t txFrameSize_ = 0, txFrameNr_ = 0;
  uint32_t txNext_ = 0, txDone_ = 0, txInflight_ = 0;
  TxShared tx_;
};

void InitAfPacket(Napi::Env env, Napi::Object exports) {
  exports.Set("AfPacket", AfPacket::Define(env));
  Napi::Object c = exports.Get("constants").As<Napi::Object>();
  c.Set("AFP_OPT_RX", Napi::Number::New(env, OPT_RX));
  c.Set("AFP_OPT_TX", Napi::Number::New(env, OPT_TX));
  c.Set("AFP_OPT_QDISC_BYPASS", Napi::Number::New(env, OPT_QDISC_BYPASS));
  c.Set("AFP_OPT_PROMISC", Napi::Number::New(env, OPT_PROMISC));
  c.Set("AFP_OPT_RXHASH", Napi::Number::New(env, OPT_RXHASH));
  c.Set("AFP_OPT_DIR_IN", Napi::Number::New(env, OPT_DIR_IN));
  c.Set("AFP_OPT_DIR_OUT", Napi::Number::New(env, OPT_DIR_OUT));
  c.Set("AFP_OPT_FANOUT", Napi::Number::New(env, OPT_FANOUT));
  c.Set("AFP_OPT_TX_LOSS", Napi::Number::New(env, OPT_TX_LOSS));
  c.Set("AFP_TX_DATA_OFFSET", Napi::Number::New(env, kTxDataOffset));
  c.Set("TPACKET3_HDRLEN", Napi::Number::New(env, TPACKET3_HDRLEN));
}

}  // namespace nethuns
