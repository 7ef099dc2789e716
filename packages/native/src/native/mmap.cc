// mmap / munmap over external ArrayBuffers (x/mapping.h): one ArrayBuffer per region, detached before munmap.
#include <sys/mman.h>

#include "binding.h"

namespace xnative {

// mmap(fd, length, prot, flags, offset, addr?) → ArrayBuffer. addr (a number) is a hint or, with
// MAP_FIXED_NOREPLACE, the exact address.
static Napi::Value Mmap(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = x::IntArg(info, 0);
  int64_t length = x::Int64Arg(info, 1);
  int prot = x::IntArg(info, 2), flags = x::IntArg(info, 3);
  int64_t offset = x::Int64Arg(info, 4);
  void *hint = nullptr;
  if (info.Length() > 5 && info[5].IsNumber()) {
    hint = reinterpret_cast<void *>(static_cast<uintptr_t>(info[5].As<Napi::Number>().Int64Value()));
  } else if (info.Length() > 5 && info[5].IsBigInt()) {
    bool lossless;
    hint = reinterpret_cast<void *>(static_cast<uintptr_t>(info[5].As<Napi::BigInt>().Uint64Value(&lossless)));
  }
  if (length <= 0) throw x::ErrnoError(env, EINVAL, "mmap");
  return x::MapToArrayBuffer(env, fd, static_cast<size_t>(length), prot, flags, static_cast<off_t>(offset), hint);
}

// munmap(ab) → true if it was a live mapping (now detached and unmapped), false if already unmapped.
static Napi::Value Munmap(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArrayBuffer()) throw Napi::TypeError::New(env, "munmap expects the ArrayBuffer mmap returned");
  return Napi::Boolean::New(env, x::UnmapArrayBuffer(env, info[0].As<Napi::ArrayBuffer>()));
}

// The region's address as a BigInt (for MAP_FIXED layouts and logs), or 0n if not a live mapping.
static Napi::Value MappingAddress(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArrayBuffer()) return Napi::BigInt::New(env, static_cast<uint64_t>(0));
  void *p = info[0].As<Napi::ArrayBuffer>().Data();
  auto *d = x::GetEnvData(env);
  if (p == nullptr || d->mappings.count(p) == 0) return Napi::BigInt::New(env, static_cast<uint64_t>(0));
  return Napi::BigInt::New(env, static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p)));
}

static Napi::Value Msync(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArrayBuffer()) throw Napi::TypeError::New(env, "msync expects the ArrayBuffer mmap returned");
  auto ab = info[0].As<Napi::ArrayBuffer>();
  int flags = x::IntArg(info, 1);
  if (ab.Data() == nullptr) throw x::ErrnoError(env, EINVAL, "msync");
  if (::msync(ab.Data(), ab.ByteLength(), flags) < 0) throw x::ErrnoError(env, errno, "msync");
  return env.Undefined();
}

void InitMmap(Napi::Env env, Napi::Object exports) {
  exports.Set("mmap", Napi::Function::New(env, Mmap, "mmap"));
  exports.Set("munmap", Napi::Function::New(env, Munmap, "munmap"));
  exports.Set("mapping_address", Napi::Function::New(env, MappingAddress, "mapping_address"));
  exports.Set("msync", Napi::Function::New(env, Msync, "msync"));
}

}  // namespace xnative
