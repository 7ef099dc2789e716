// FdWatcher: readiness events of one fd, on the env's loop, delivered with MakeCallback(status, events).
// The JS object is kept alive (napi ref) while it polls; close() stops and closes the uv handle — the fd is the
// caller's and must be closed after.
#include "binding.h"

namespace xnative {

class FdWatcher : public Napi::ObjectWrap<FdWatcher>, public x::Poller {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "FdWatcher",
                       {InstanceMethod<&FdWatcher::Start>("start"), InstanceMethod<&FdWatcher::Stop>("stop"),
                        InstanceMethod<&FdWatcher::CloseJs>("close"), InstanceMethod<&FdWatcher::RefJs>("ref"),
                        InstanceMethod<&FdWatcher::UnrefJs>("unref")});
  }

  // new FdWatcher(fd, callback(status, events))
  explicit FdWatcher(const Napi::CallbackInfo &info) : Napi::ObjectWrap<FdWatcher>(info) {
    Napi::Env env = info.Env();
    int fd = x::IntArg(info, 0);
    if (!info[1].IsFunction()) throw Napi::TypeError::New(env, "FdWatcher: callback must be a function");
    callback_ = Napi::Persistent(info[1].As<Napi::Function>());
    ctx_ = std::make_unique<Napi::AsyncContext>(env, "x:FdWatcher");
    int r = Init(env, fd);
    if (r < 0) throw x::ErrnoError(env, -r, "uv_poll_init");
  }
  ~FdWatcher() override { Close(); }

 private:
  Napi::Value Start(const Napi::CallbackInfo &info) {
    int r = x::Poller::Start(x::IntArg(info, 0));
    if (r == 0 && !held_) {
      Ref();
      held_ = true;
    }
    return Napi::Number::New(info.Env(), r);
  }
  Napi::Value Stop(const Napi::CallbackInfo &info) {
    int r = x::Poller::Stop();
    Release();
    return Napi::Number::New(info.Env(), r);
  }
  Napi::Value CloseJs(const Napi::CallbackInfo &info) {
    Close();
    Release();
    return info.Env().Undefined();
  }
  Napi::Value RefJs(const Napi::CallbackInfo &info) {
    x::Poller::RefHandle();
    return info.Env().Undefined();
  }
  Napi::Value UnrefJs(const Napi::CallbackInfo &info) {
    x::Poller::UnrefHandle();
    return info.Env().Undefined();
  }

  void Release() {
    if (held_) {
      held_ = false;
      Unref();
    }
  }

  void OnPoll(int status, int events) override {
    Napi::Env env = Napi::ObjectWrap<FdWatcher>::Env();
    Napi::HandleScope scope(env);
    // libuv stops the handle on error; drop our hold so a dead watcher can be collected.
    if (status < 0) Release();
    x::CallJs(env, callback_, Value(), *ctx_, {Napi::Number::New(env, status), Napi::Number::New(env, events)});
  }

  void OnEnvTeardown() override { held_ = false; }

  Napi::FunctionReference callback_;
  std::unique_ptr<Napi::AsyncContext> ctx_;
  bool held_ = false;
};

void InitWatcher(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = FdWatcher::Define(env);
  x::GetEnvData<AddonData>(env)->watcherCtor = Napi::Persistent(ctor);
  exports.Set("FdWatcher", ctor);
}

}  // namespace xnative
