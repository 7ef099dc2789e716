// Addon entry: per-env data first (workers get their own), then each concern's exports.
#include "binding.h"

namespace xnative {

static Napi::Value Noop(const Napi::CallbackInfo &info) { return info.Env().Undefined(); }

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  x::SetEnvData(env, new AddonData(env));
  exports.Set("noop", Napi::Function::New(env, Noop, "noop"));
  InitConstants(env, exports);
  InitFd(env, exports);
  InitMmap(env, exports);
  InitSocket(env, exports);
  InitWatcher(env, exports);
  InitNss(env, exports);
  InitMmsg(env, exports);
  InitBpf(env, exports);
  InitSendmmsg(env, exports);
  InitMsgArena(env, exports);
  return exports;
}

}  // namespace xnative

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return xnative::Init(env, exports); }

NODE_API_MODULE(binding, InitAddon)
