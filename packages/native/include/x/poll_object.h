// x/poll_object.h — a JS object that owns one fd's readiness: Napi::ObjectWrap<T> + x::Poller, with the JS
// methods start(events?) / stop() / close() / ref() / unref() (names chosen by the addon), the object kept alive
// while it polls, and one callback per wake-up through MakeCallback. Subclass it and override OnPoll; call
// InitPoll from the constructor and CallBack from OnPoll.
#pragma once
#include <napi.h>

#include <memory>
#include <vector>

#include "bytes.h"
#include "errno.h"
#include "poll.h"

namespace x {

template <typename T>
class PollObject : public Napi::ObjectWrap<T>, public Poller {
 public:
  using Descriptor = typename Napi::ObjectWrap<T>::PropertyDescriptor;
  using Method = Napi::Value (T::*)(const Napi::CallbackInfo &);

  struct MethodNames {
    const char *start = "start";
    const char *stop = "stop";
    const char *close = "close";  // nullptr: no JS close (the subclass closes with ClosePoll)
    const char *ref = "ref";
    const char *unref = "unref";
  };

  explicit PollObject(const Napi::CallbackInfo &info) : Napi::ObjectWrap<T>(info) {}
  ~PollObject() override { Poller::Close(); }

  // Adds the poll methods to a DefineClass list.
  static void PollMethods(std::vector<Descriptor> &m, MethodNames n = MethodNames()) {
    m.push_back(Napi::ObjectWrap<T>::InstanceMethod(n.start, static_cast<Method>(&PollObject::StartJs)));
    m.push_back(Napi::ObjectWrap<T>::InstanceMethod(n.stop, static_cast<Method>(&PollObject::StopJs)));
    if (n.close != nullptr) {
      m.push_back(Napi::ObjectWrap<T>::InstanceMethod(n.close, static_cast<Method>(&PollObject::CloseJs)));
    }
    m.push_back(Napi::ObjectWrap<T>::InstanceMethod(n.ref, static_cast<Method>(&PollObject::RefJs)));
    m.push_back(Napi::ObjectWrap<T>::InstanceMethod(n.unref, static_cast<Method>(&PollObject::UnrefJs)));
  }

 protected:
  // Readiness of fd reported to cb; start() without an argument watches defaultEvents.
  void InitPoll(Napi::Env env, int fd, Napi::Value cb, const char *name, int defaultEvents = UV_READABLE) {
    if (!cb.IsFunction()) throw Napi::TypeError::New(env, std::string(name) + ": callback must be a function");
    callback_ = Napi::Persistent(cb.As<Napi::Function>());
    ctx_ = std::make_unique<Napi::AsyncContext>(env, name);
    defaultEvents_ = defaultEvents;
    int r = Poller::Init(env, fd);
    if (r < 0) throw ErrnoError(env, -r, "uv_poll_init");
  }

  // Stops polling and closes the uv handle (the fd is the subclass's or the caller's: close it after this).
  void ClosePoll() {
    Poller::Close();
    ReleaseHold();
  }

  // After an error status libuv has stopped the handle: let a dead poller be collected.
  void ReleaseHold() {
    if (held_) {
      held_ = false;
      this->Unref();
    }
  }

  // The callback, once, through MakeCallback; a JS exception becomes an uncaught exception.
  void CallBack(const std::initializer_list<napi_value> &args) {
    CallJs(Napi::ObjectWrap<T>::Env(), callback_, this->Value(), *ctx_, args);
  }

  void OnEnvTeardown() override { held_ = false; }

 private:
  Napi::Value StartJs(const Napi::CallbackInfo &info) {
    int r = Poller::Start(info.Length() > 0 ? IntArg(info, 0) : defaultEvents_);
    if (r == 0 && !held_) {
      this->Ref();
      held_ = true;
    }
    return Napi::Number::New(info.Env(), r);
  }
  Napi::Value StopJs(const Napi::CallbackInfo &info) {
    int r = Poller::Stop();
    ReleaseHold();
    return Napi::Number::New(info.Env(), r);
  }
  Napi::Value CloseJs(const Napi::CallbackInfo &info) {
    ClosePoll();
    return info.Env().Undefined();
  }
  Napi::Value RefJs(const Napi::CallbackInfo &info) {
    RefHandle();
    return info.Env().Undefined();
  }
  Napi::Value UnrefJs(const Napi::CallbackInfo &info) {
    UnrefHandle();
    return info.Env().Undefined();
  }

  Napi::FunctionReference callback_;
  std::unique_ptr<Napi::AsyncContext> ctx_;
  int defaultEvents_ = UV_READABLE;
  bool held_ = false;
};

}  // namespace x
