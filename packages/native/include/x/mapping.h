// x/mapping.h — an external ArrayBuffer over an mmap'd region, detached before munmap.
// Stale JS views of an unmapped region read as empty instead of faulting.
#pragma once
#include <napi.h>
#include <sys/mman.h>

#include "env.h"
#include "errno.h"

namespace x {

namespace detail {
inline void FinalizeMapping(Napi::Env, void *, Mapping *m) {
  if (m->live) ::munmap(m->addr, m->length);
  if (m->owner != nullptr) {
    auto it = m->owner->mappings.find(m->addr);
    if (it != m->owner->mappings.end() && it->second == m) m->owner->mappings.erase(it);
  }
  delete m;
}
}  // namespace detail

// Lends [addr, addr + length) to JS. The ArrayBuffer owns the mapping from now on.
inline Napi::ArrayBuffer WrapMapping(Napi::Env env, void *addr, size_t length) {
  EnvData *data = GetEnvData(env);
  if (data->mappings.count(addr) != 0) {
    ::munmap(addr, length);
    throw Napi::Error::New(env, "region is already wrapped in an ArrayBuffer");
  }
  auto *m = new Mapping{addr, length, true, data};
  data->mappings.emplace(addr, m);
  return Napi::ArrayBuffer::New(env, addr, length, detail::FinalizeMapping, m);
}

// Detaches ab (every view of it becomes empty) and munmaps its region. False if ab is not a live mapping of ours.
inline bool UnmapArrayBuffer(Napi::Env env, Napi::ArrayBuffer ab) {
  EnvData *data = GetEnvData(env);
  void *addr = ab.Data();
  auto it = data->mappings.find(addr);
  if (addr == nullptr || it == data->mappings.end() || !it->second->live) return false;
  Mapping *m = it->second;
  ab.Detach();
  m->live = false;
  data->mappings.erase(it);
  m->owner = nullptr;
  ::munmap(m->addr, m->length);
  return true;
}

// mmap(2) + WrapMapping; throws a Node-style error on failure.
inline Napi::ArrayBuffer MapToArrayBuffer(Napi::Env env, int fd, size_t length, int prot, int flags, off_t offset,
                                         void *hint = nullptr) {
  void *p = ::mmap(hint, length, prot, flags, fd, offset);
  if (p == MAP_FAILED) throw ErrnoError(env, errno, "mmap");
  return WrapMapping(env, p, length);
}

}  // namespace x
