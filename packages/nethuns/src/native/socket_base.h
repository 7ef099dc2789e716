// SocketBase<T>: what every backend's native socket shares. An ObjectWrap that owns one fd's readiness
// (x::Poller on the env's loop), the JS memory of its receive side (RxShared), and one JS callback
// (status, events, drained) called once per wake-up through MakeCallback. On a readable wake-up with an empty JS
// cache, the backend's Drain() fills the socket's own batch arrays first, so JS gets the count in the same call.
#pragma once
#include <vector>

#include "common.h"

namespace nethuns {

template <typename T>
class SocketBase : public x::PollObject<T> {
 public:
  using Base = x::PollObject<T>;
  using Method = typename Base::Method;

  explicit SocketBase(const Napi::CallbackInfo &info) : Base(info) {}

  // The methods every backend exports (mirror uv_poll and the attach step).
  static void BaseMethods(std::vector<typename Base::Descriptor> &m) {
    typename Base::MethodNames names;
    names.start = "poll_start";
    names.stop = "poll_stop";
    names.close = nullptr;  // each backend's close() ends polling with ClosePoll(), then closes its fd
    Base::PollMethods(m, names);
    m.push_back(Napi::ObjectWrap<T>::InstanceMethod("attach_rx", static_cast<Method>(&SocketBase::AttachRx)));
  }

 protected:
  // Receives up to the socket's own batch capacity into its own arrays; the count or -errno.
  virtual int Drain() = 0;

  RxShared rx_;

 private:
  // attach_rx(pool, bufSize, stash, state, descs, meta, counters)
  Napi::Value AttachRx(const Napi::CallbackInfo &info) {
    rx_.Attach(info, 0);
    return info.Env().Undefined();
  }

  // cb(status, events, drained): on a readable wake-up with an empty JS cache, Drain() first.
  void OnPoll(int status, int events) override {
    Napi::Env env = Napi::ObjectWrap<T>::Env();
    Napi::HandleScope scope(env);
    if (status < 0) this->ReleaseHold();  // libuv stopped the handle
    int n = 0;
    if (status == 0 && (events & UV_READABLE) != 0 && rx_.Attached() && rx_.state.data[S_CACHE_EMPTY] != 0) {
      n = Drain();
      if (n > 0) rx_.state.data[S_CACHE_EMPTY] = 0;
    }
    this->CallBack({Napi::Number::New(env, status), Napi::Number::New(env, events), Napi::Number::New(env, n)});
  }
};

}  // namespace nethuns
