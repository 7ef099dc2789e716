// Shared by every backend: the JS-owned memory a socket reads and writes (the Context's buffers, the socket's
// stash of free buffer descriptors, the batch arrays, the state words and the counters), acquire/release helpers,
// and the readiness plumbing (x::Poller + one MakeCallback per wake-up).
#pragma once
#include <x/native.h>

#include <cstdint>
#include <cstring>
#include <memory>

namespace nethuns {

// Words of one packet's metadata record in the batch `meta` array (u32 each).
enum Meta : uint32_t {
  M_CAPLEN = 0,  // bytes stored in the buffer
  M_LEN,         // length on the wire
  M_SEC,         // timestamp
  M_NSEC,
  M_RXHASH,      // af_packet: tp_rxhash
  M_VLAN_TCI,    // af_packet: tp_vlan_tci (valid if M_INFO has INFO_VLAN)
  M_VLAN_TPID,
  M_INFO,        // low byte: sll_pkttype; bits 8..: INFO_* flags
  META_WORDS
};
enum Info : uint32_t { INFO_VLAN = 1u << 8, INFO_VLAN_TPID = 1u << 9, INFO_TRUNCATED = 1u << 10 };

// Words of the Int32 `state` array.
enum State : uint32_t {
  S_STASH = 0,      // free descriptors in the stash (JS refills, native consumes from the top)
  S_CACHE_EMPTY,    // 1 when JS has consumed its cached batch: a wake-up may drain into it
  S_STALLED,        // native: 1 when a receive stopped because the stash was empty with packets waiting
  S_TX_NEXT,        // af_packet: index of the first unsubmitted TX frame
  S_EOF,            // pcap offline: 1 at end of file
  S_COMPLETED,      // af_xdp: completed TX descriptors written to the completion array, for JS to release
  S_TX_ERRNO,       // the errno of the last failed kick (0 if none): frames were queued all the same
  STATE_WORDS = 16
};

// Doubles of the `counters` array (exact up to 2^53).
enum Counter : uint32_t {
  C_RECEIVED = 0,   // packets delivered to JS
  C_BYTES,          // bytes delivered (captured)
  C_KERNEL_DROPS,   // PACKET_STATISTICS tp_drops / XDP rx_dropped + rx_ring_full / pcap ps_drop
  C_FILTERED,       // dropped by a user-space filter (BPF string on af_xdp, direction)
  C_SENT,           // TX frames completed by the kernel
  C_TX_INVALID,     // TX frames refused (TP_STATUS_WRONG_FORMAT, XDP tx_invalid_descs)
  C_RX_INVALID,     // XDP rx_invalid_descs
  C_FREEZE,         // PACKET_STATISTICS tp_freeze_q_cnt
  C_IF_DROPS,       // pcap ps_ifdrop
  C_FILL_EMPTY,     // XDP rx_fill_ring_empty_descs
  C_KERNEL_SEEN,    // PACKET_STATISTICS tp_packets (accumulated)
  C_TX_BYTES,
  COUNTER_WORDS = 16
};

template <typename T>
inline T LoadAcquire(const T *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
template <typename T>
inline void StoreRelease(T *p, T v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }

// A typed array argument kept alive for as long as the native object uses its memory.
template <typename T>
struct Pinned {
  T *data = nullptr;
  size_t count = 0;  // elements
  Napi::Reference<Napi::Value> ref;

  void Set(Napi::Env env, Napi::Value v, size_t min, const char *what) {
    if (!v.IsTypedArray()) throw Napi::TypeError::New(env, std::string(what) + " must be a typed array");
    x::Bytes b = x::ViewOf(env, v);
    if (reinterpret_cast<uintptr_t>(b.data) % alignof(T) != 0) {
      throw Napi::RangeError::New(env, std::string(what) + " is misaligned");
    }
    data = reinterpret_cast<T *>(b.data);
    count = b.length / sizeof(T);
    if (count < min) throw Napi::RangeError::New(env, std::string(what) + " is too small");
    ref = Napi::Reference<Napi::Value>::New(v, 1);
  }
  void Reset() {
    data = nullptr;
    count = 0;
    ref.Reset();
  }
};

// The receive side's JS memory: where packets go and what is known about them.
struct RxShared {
  Pinned<uint8_t> pool;       // all buffers of the Context (buffer d at d * bufSize)
  uint32_t bufSize = 0;
  uint32_t bufCount = 0;
  Pinned<uint32_t> stash;     // free descriptors the socket owns
  Pinned<int32_t> state;
  Pinned<uint32_t> descs;     // batch: descriptor of packet i
  Pinned<uint32_t> meta;      // batch: META_WORDS per packet
  Pinned<double> counters;
  uint32_t batchCap = 0;

  // attach(pool, bufSize, stash, state, descs, meta, counters) starting at info[i].
  void Attach(const Napi::CallbackInfo &info, size_t i) {
    Napi::Env env = info.Env();
    bufSize = x::UintArg(info, i + 1);
    if (bufSize == 0) throw Napi::RangeError::New(env, "bufSize must be positive");
    pool.Set(env, info[i], 1, "pool");
    bufCount = static_cast<uint32_t>(pool.count / bufSize);
    stash.Set(env, info[i + 2], 1, "stash");
    state.Set(env, info[i + 3], STATE_WORDS, "state");
    descs.Set(env, info[i + 4], 1, "descs");
    batchCap = static_cast<uint32_t>(descs.count);
    meta.Set(env, info[i + 5], static_cast<size_t>(batchCap) * META_WORDS, "meta");
    counters.Set(env, info[i + 6], COUNTER_WORDS, "counters");
  }
  bool Attached() const { return pool.data != nullptr; }
  void Reset() {
    pool.Reset(); stash.Reset(); state.Reset(); descs.Reset(); meta.Reset(); counters.Reset();
    bufSize = bufCount = batchCap = 0;
  }

  // Output arrays for one call: the socket's own, or a caller-owned batch (descs, meta) of the same layout.
  struct Out {
    uint32_t *descs;
    uint32_t *meta;
    uint32_t cap;
  };
  Out Own() { return Out{descs.data, meta.data, batchCap}; }

  // Takes one free descriptor from the stash, or returns false when it is empty.
  bool Take(uint32_t *desc) {
    int32_t n = state.data[S_STASH];
    if (n <= 0) return false;
    uint32_t d = stash.data[n - 1];
    if (d >= bufCount) {  // JS bug guard: never write outside the pool
      state.data[S_STASH] = n - 1;
      return false;
    }
    state.data[S_STASH] = n - 1;
    *desc = d;
    return true;
  }
  uint8_t *Buffer(uint32_t desc) { return pool.data + static_cast<size_t>(desc) * bufSize; }
  double &Counter(uint32_t c) { return counters.data[c]; }
};

// Resolves the output arrays of rx(max, descs?, meta?): info[i], info[i+1] optional caller-owned arrays.
inline RxShared::Out OutArg(const Napi::CallbackInfo &info, size_t i, RxShared &rx) {
  if (info.Length() <= i || info[i].IsUndefined() || info[i].IsNull()) return rx.Own();
  Napi::Env env = info.Env();
  x::Bytes d = x::ViewOf(env, info[i]);
  x::Bytes m = x::ViewOf(env, info[i + 1]);
  uint32_t cap = static_cast<uint32_t>(d.length / 4);
  if (m.length / 4 < static_cast<size_t>(cap) * META_WORDS) cap = static_cast<uint32_t>(m.length / 4 / META_WORDS);
  if ((reinterpret_cast<uintptr_t>(d.data) | reinterpret_cast<uintptr_t>(m.data)) % 4 != 0) {
    throw Napi::RangeError::New(env, "batch arrays are misaligned");
  }
  return RxShared::Out{reinterpret_cast<uint32_t *>(d.data), reinterpret_cast<uint32_t *>(m.data), cap};
}

}  // namespace nethuns
