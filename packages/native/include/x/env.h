// x/env.h — per-env instance data, so an addon loads and unloads cleanly in every worker thread.
// Never keep JS references in statics: each env (main thread, each Worker) gets its own EnvData.
#pragma once
#include <napi.h>

#include <cstddef>
#include <unordered_map>

namespace x {

// One mmap'd region lent to JS as an external ArrayBuffer. Freed by whichever comes last: explicit unmap (which
// detaches first) or the ArrayBuffer's finalizer (which munmaps only if unmap did not).
struct Mapping {
  void *addr = nullptr;
  size_t length = 0;
  bool live = true;           // still mapped
  class EnvData *owner = nullptr;  // null once the env's data is gone
};

class EnvData {
 public:
  explicit EnvData(Napi::Env env) : env_(env) {}
  virtual ~EnvData() {
    for (auto &kv : mappings) kv.second->owner = nullptr;
  }
  Napi::Env env() const { return env_; }

  // Live mmap'd regions wrapped as external ArrayBuffers, by address: one ArrayBuffer per region, ever.
  std::unordered_map<void *, Mapping *> mappings;

 private:
  Napi::Env env_;
};

// Installs data as the addon's instance data for env (takes ownership; deleted when the env goes away).
template <typename T>
T *SetEnvData(Napi::Env env, T *data) {
  static_assert(std::is_base_of<EnvData, T>::value, "T must derive from x::EnvData");
  env.SetInstanceData<EnvData>(static_cast<EnvData *>(data));
  return data;
}

template <typename T = EnvData>
T *GetEnvData(Napi::Env env) {
  return static_cast<T *>(env.GetInstanceData<EnvData>());
}

}  // namespace x
