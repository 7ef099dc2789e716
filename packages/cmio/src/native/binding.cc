// Addon entry: per-env data first (workers get their own), then each concern's exports.
#include "binding.h"

namespace xcmio {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  x::SetEnvData(env, new AddonData(env));
  InitKernel(env, exports);
  InitEmulated(env, exports);
  return exports;
}

}  // namespace xcmio

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return xcmio::Init(env, exports); }

NODE_API_MODULE(binding, InitAddon)
