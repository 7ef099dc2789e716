// x/poll.h — fd readiness on the env's own libuv loop (never uv_default_loop(): that is the main thread's).
// Subclass Poller, override OnPoll; drain in C up to a budget there, then call JS once (see CallJs).
// The uv_poll_t lives in a separate block freed by uv_close's callback, and an async cleanup hook closes it
// when the env (a Worker, a test fork) goes away, so no handle outlives its loop.
#pragma once
#include <napi.h>
#include <uv.h>

#include "errno.h"

namespace x {

class Poller {
 public:
  Poller() = default;
  Poller(const Poller &) = delete;
  Poller &operator=(const Poller &) = delete;
  virtual ~Poller() { Close(); }

  // Binds to fd on env's loop. Returns 0 or a negative libuv error (UV_EEXIST if fd is already polled).
  int Init(Napi::Env env, int fd) {
    if (block_ != nullptr) return UV_EALREADY;
    uv_loop_t *loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok) return UV_EINVAL;
    auto *b = new Block();
    b->owner = this;
    b->env = env;
    int r = uv_poll_init(loop, &b->poll, fd);
    if (r < 0) {
      delete b;
      return r;
    }
    b->poll.data = b;
    napi_add_async_cleanup_hook(env, OnEnvCleanup, b, &b->hook);
    block_ = b;
    fd_ = fd;
    return 0;
  }

  // events: UV_READABLE | UV_WRITABLE (| UV_PRIORITIZED | UV_DISCONNECT).
  int Start(int events) {
    if (block_ == nullptr || block_->closing) return UV_EBADF;
    events_ = events;
    return uv_poll_start(&block_->poll, events, OnUvPoll);
  }
  int Stop() {
    if (block_ == nullptr || block_->closing) return 0;
    events_ = 0;
    return uv_poll_stop(&block_->poll);
  }
  void RefHandle() { if (block_ != nullptr && !block_->closing) uv_ref(reinterpret_cast<uv_handle_t *>(&block_->poll)); }
  void UnrefHandle() { if (block_ != nullptr && !block_->closing) uv_unref(reinterpret_cast<uv_handle_t *>(&block_->poll)); }

  // Stops polling and closes the handle; the fd itself is the caller's and must be closed only after this.
  void Close() {
    if (block_ == nullptr) return;
    Block *b = block_;
    block_ = nullptr;
    b->owner = nullptr;
    events_ = 0;
    if (!b->closing) {
      b->closing = true;
      uv_close(reinterpret_cast<uv_handle_t *>(&b->poll), OnUvClose);
    }
  }

  bool IsOpen() const { return block_ != nullptr; }
  int fd() const { return fd_; }
  int events() const { return events_; }

 protected:
  // status < 0 is a libuv error (POLLERR arrives as UV_EBADF and stops the handle); the subclass finds the cause.
  virtual void OnPoll(int status, int events) = 0;
  virtual void OnEnvTeardown() {}

 private:
  struct Block {
    uv_poll_t poll;
    Poller *owner = nullptr;
    napi_env env = nullptr;
    napi_async_cleanup_hook_handle hook = nullptr;
    bool closing = false;
  };

  static void OnUvPoll(uv_poll_t *h, int status, int events) {
    auto *b = static_cast<Block *>(h->data);
    if (b->owner != nullptr) b->owner->OnPoll(status, events);
  }
  static void OnUvClose(uv_handle_t *h) {
    auto *b = static_cast<Block *>(h->data);
    if (b->hook != nullptr) napi_remove_async_cleanup_hook(b->hook);
    delete b;
  }
  static void OnEnvCleanup(napi_async_cleanup_hook_handle, void *arg) {
    auto *b = static_cast<Block *>(arg);
    if (b->owner != nullptr) {
      Poller *p = b->owner;
      p->block_ = nullptr;
      b->owner = nullptr;
      p->OnEnvTeardown();
    }
    if (!b->closing) {
      b->closing = true;
      uv_close(reinterpret_cast<uv_handle_t *>(&b->poll), OnUvClose);
    }
  }

  Block *block_ = nullptr;
  int fd_ = -1;
  int events_ = 0;
};

// Calls fn(args) through MakeCallback (so nextTicks and promise continuations run after it) from a libuv
// callback. A JS exception becomes an uncaught exception; no C++ exception escapes into libuv.
inline void CallJs(Napi::Env env, Napi::FunctionReference &fn, Napi::Object recv, Napi::AsyncContext &ctx,
                   const std::initializer_list<napi_value> &args) {
  try {
    fn.MakeCallback(recv, args, ctx);
  } catch (const Napi::Error &e) {
    napi_fatal_exception(env, e.Value());
  }
}

}  // namespace x
