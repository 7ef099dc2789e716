// The layout of the memory JS shares with the addon (batch records, state words, counters) and the kernel
// numbers TypeScript needs, exported from C so TypeScript never retypes them.
#include <linux/if_packet.h>
#include <uv.h>
#include <unistd.h>

#include "binding.h"
#include "common.h"

namespace nethuns {

void InitConstants(Napi::Env env, Napi::Object exports) {
  Napi::Object c = Napi::Object::New(env);
#define X(name) c.Set(#name, Napi::Number::New(env, static_cast<double>(name)))
  X(M_CAPLEN); X(M_LEN); X(M_SEC); X(M_NSEC); X(M_RXHASH); X(M_VLAN_TCI); X(M_VLAN_TPID); X(M_INFO);
  X(META_WORDS); X(INFO_VLAN); X(INFO_VLAN_TPID); X(INFO_TRUNCATED);
  X(S_STASH); X(S_CACHE_EMPTY); X(S_STALLED); X(S_TX_NEXT); X(S_EOF); X(S_COMPLETED); X(S_TX_ERRNO); X(STATE_WORDS);
  X(C_RECEIVED); X(C_BYTES); X(C_KERNEL_DROPS); X(C_FILTERED); X(C_SENT); X(C_TX_INVALID); X(C_RX_INVALID);
  X(C_FREEZE); X(C_IF_DROPS); X(C_FILL_EMPTY); X(C_KERNEL_SEEN); X(C_TX_BYTES); X(COUNTER_WORDS);
  X(PACKET_HOST); X(PACKET_BROADCAST); X(PACKET_MULTICAST); X(PACKET_OTHERHOST); X(PACKET_OUTGOING);
  X(PACKET_FANOUT_HASH); X(PACKET_FANOUT_LB); X(PACKET_FANOUT_CPU); X(PACKET_FANOUT_ROLLOVER);
  X(PACKET_FANOUT_RND); X(PACKET_FANOUT_QM); X(PACKET_FANOUT_CBPF); X(PACKET_FANOUT_EBPF);
  X(PACKET_FANOUT_FLAG_ROLLOVER); X(PACKET_FANOUT_FLAG_UNIQUEID); X(PACKET_FANOUT_FLAG_DEFRAG);
  X(UV_READABLE); X(UV_WRITABLE);
#undef X
  c.Set("PAGE_SIZE", Napi::Number::New(env, static_cast<double>(::sysconf(_SC_PAGESIZE))));
  exports.Set("constants", c);
}

}  // namespace nethuns
