// FdWatcher: readiness events of one fd, on the env's loop, delivered with MakeCallback(status, events).
// The JS object is kept alive while it polls (x::PollObject); close() stops and closes the uv handle — the fd is
// the caller's and must be closed after.
#include "binding.h"

namespace xnative {

class FdWatcher : public x::PollObject<FdWatcher> {
 public:
  static Napi::Function Define(Napi::Env env) {
    std::vector<Descriptor> methods;
    PollMethods(methods);
    return DefineClass(env, "FdWatcher", methods);
  }

  // new FdWatcher(fd, callback(status, events))
  explicit FdWatcher(const Napi::CallbackInfo &info) : x::PollObject<FdWatcher>(info) {
    InitPoll(info.Env(), x::IntArg(info, 0), info[1], "x:FdWatcher");
  }

 private:
  void OnPoll(int status, int events) override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (status < 0) ReleaseHold();  // libuv stopped the handle
    CallBack({Napi::Number::New(env, status), Napi::Number::New(env, events)});
  }
};

void InitWatcher(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = FdWatcher::Define(env);
  x::GetEnvData<AddonData>(env)->watcherCtor = Napi::Persistent(ctor);
  exports.Set("FdWatcher", ctor);
}

}  // namespace xnative
