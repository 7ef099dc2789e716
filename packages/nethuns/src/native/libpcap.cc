// dlopen of libpcap (see libpcap.h). Process-wide and loaded once: function pointers, no JS state.
#include "libpcap.h"

#include <dlfcn.h>

#include <mutex>

namespace nethuns {
namespace lp {

#define NETHUNS_PCAP_DEFINE(name) decltype(&::name) name = nullptr;
NETHUNS_PCAP_FUNCS(NETHUNS_PCAP_DEFINE)
#undef NETHUNS_PCAP_DEFINE

bool Load() {
  static std::once_flag once;
  static bool ok = false;
  std::call_once(once, [] {
    void *h = nullptr;
    for (const char *so : {"libpcap.so.0.8", "libpcap.so.1", "libpcap.so"}) {
      h = ::dlopen(so, RTLD_NOW | RTLD_LOCAL);
      if (h != nullptr) break;
    }
    if (h == nullptr) return;
    bool all = true;
#define NETHUNS_PCAP_RESOLVE(name)                                     \
  name = reinterpret_cast<decltype(&::name)>(::dlsym(h, #name));       \
  if (name == nullptr) all = false;
    NETHUNS_PCAP_FUNCS(NETHUNS_PCAP_RESOLVE)
#undef NETHUNS_PCAP_RESOLVE
    ok = all;
  });
  return ok;
}

}  // namespace lp
}  // namespace nethuns
