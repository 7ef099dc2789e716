// SocketBase<T>: what every backend's native socket shares. An ObjectWrap that owns one fd's readiness
// (x::Poller on the env's loop), the JS memory of its receive side (RxShared), and one JS callback
// (status, events, drained) called once per wake-up through MakeCallback. On a readable wake-up with an empty JS
// cache, the backend's Drain() fills the socket's own batch arrays first, so JS gets the count in the same call.
#pragma once
#include <vector>

#include "common.h"

namespace nethuns {

template <typename T>
class SocketBase : public Napi::ObjectWrap<T>, public x::Poller {
 public:
  using Method = Napi::Value (T::*)(const Napi::CallbackInfo &);

  explicit SocketBase(const Napi::CallbackInfo &info) : Napi::ObjectWrap<T>(info) {}
  ~SocketBase() override { x::Poller::Close(); }

  // The methods every backend exports (mirror uv_poll and the attach step).
  static void BaseMethods(std::vector<typename Napi::ObjectWrap<T>::PropertyDescriptor> &m) {
    m.push_back(Napi::ObjectWrap<T>::InstanceMethod("poll_start", static_cast<Method>(&SocketBase::PollStart)));
    m.push_back(Napi::ObjectWrap<T>::InstanceMethod("poll_stop", static_cast<Method>(&SocketBase::PollStop)));
    m.push_back(Napi::ObjectWrap<T>::InstanceMethod("ref", static_cast<Method>(&SocketBase::RefJs)));
    m.push_back(Napi::ObjectWrap<T>::InstanceMethod("unref", static_cast<Method>(&SocketBase::UnrefJs)));
    m.push_back(Napi::ObjectWrap<T>::InstanceMethod("attach_rx", static_cast<Method>(&SocketBase::AttachRx)));
  }

 protected:
  // Readiness of fd, reported to cb(status, events, drained). Call from the subclass constructor.
  void InitPoll(Napi::Env env, int fd, Napi::Value cb, const char *name) {
    if (!cb.IsFunction()) throw Napi::TypeError::New(env, "callback must be a function");
    callback_ = Napi::Persistent(cb.As<Napi::Function>());
    ctx_ = std::make_unique<Napi::AsyncContext>(env, name);
    int r = x::Poller::Init(env, fd);
    if (r < 0) throw x::ErrnoError(env, -r, "uv_poll_init");
  }

  // Stop polling (the uv handle is closed; the fd is the subclass's and is closed after this).
  void ClosePoll() {
    x::Poller::Close();
    Release();
  }

  // Receives up to the socket's own batch capacity into its own arrays; the count or -errno.
  virtual int Drain() = 0;

  RxShared rx_;

 private:
  Napi::Value PollStart(const Napi::CallbackInfo &info) {
    int r = x::Poller::Start(x::IntArg(info, 0));
    if (r == 0 && !held_) {
      this->Ref();
      held_ = true;
    }
    return Napi::Number::New(info.Env(), r);
  }
  Napi::Value PollStop(const Napi::CallbackInfo &info) {
    int r = x::Poller::Stop();
    Release();
    return Napi::Number::New(info.Env(), r);
  }
  Napi::Value RefJs(const Napi::CallbackInfo &info) {
    x::Poller::RefHandle();
    return info.Env().Undefined();
  }
  Napi::Value UnrefJs(const Napi::CallbackInfo &info) {
    x::Poller::UnrefHandle();
    return info.Env().Undefined();
  }
  // attach_rx(pool, bufSize, stash, state, descs, meta, counters)
  Napi::Value AttachRx(const Napi::CallbackInfo &info) {
    rx_.Attach(info, 0);
    return info.Env().Undefined();
  }

  void Release() {
    if (held_) {
      held_ = false;
      this->Unref();
    }
  }

  void OnPoll(int status, int events) override {
    Napi::Env env = Napi::ObjectWrap<T>::Env();
    Napi::HandleScope scope(env);
    if (status < 0) Release();  // libuv stopped the handle
    int n = 0;
    if (status == 0 && (events & UV_READABLE) != 0 && rx_.Attached() && rx_.state.data[S_CACHE_EMPTY] != 0) {
      n = Drain();
      if (n > 0) rx_.state.data[S_CACHE_EMPTY] = 0;
    }
    x::CallJs(env, callback_, this->Value(), *ctx_,
              {Napi::Number::New(env, status), Napi::Number::New(env, events), Napi::Number::New(env, n)});
  }
  void OnEnvTeardown() override { held_ = false; }

  Napi::FunctionReference callback_;
  std::unique_ptr<Napi::AsyncContext> ctx_;
  bool held_ = false;
};

}  // namespace nethuns
