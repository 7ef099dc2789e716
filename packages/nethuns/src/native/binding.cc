// Addon entry: per-env data first (the addon loads in every worker), then the constants and each backend.
#include "binding.h"

#ifdef NETHUNS_HAVE_PCAP
#include "libpcap.h"
#endif

namespace nethuns {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  x::SetEnvData(env, new AddonData(env));
  InitConstants(env, exports);
  InitAfPacket(env, exports);
  InitAfXdp(env, exports);
#ifdef NETHUNS_HAVE_PCAP
  if (lp::Load()) {  // libpcap present at run time: the pcap backend and BPF filter strings
    InitBpf(env, exports);
    InitPcap(env, exports);
  }
#endif
  return exports;
}

}  // namespace nethuns

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return nethuns::Init(env, exports); }

NODE_API_MODULE(binding, InitAddon)
