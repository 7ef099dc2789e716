// @x/cmio addon: the Cartesi Machine I/O device's syscalls, nothing else. TypeScript does everything around them.
#pragma once
#include <napi.h>
#include <x/native.h>

namespace xcmio {

void InitKernel(Napi::Env env, Napi::Object exports);    // cmio_open, cmio_setup, cmio_yield(_async), constants
void InitEmulated(Napi::Env env, Napi::Object exports);  // cmio_emu_call, cmio_emu_yield

struct AddonData : x::EnvData {
  explicit AddonData(Napi::Env env) : x::EnvData(env) {}
};

// A BigUint64Array/BigInt64Array argument's first element: where a yield word goes in and its reply comes back.
inline uint64_t *WordArg(const Napi::CallbackInfo &info, size_t i) {
  Napi::Env env = info.Env();
  if (i >= info.Length() || !info[i].IsTypedArray()) {
    throw Napi::TypeError::New(env, "argument " + std::to_string(i) + " must be a BigUint64Array");
  }
  Napi::TypedArray t = info[i].As<Napi::TypedArray>();
  if ((t.TypedArrayType() != napi_biguint64_array && t.TypedArrayType() != napi_bigint64_array) ||
      t.ElementLength() < 1) {
    throw Napi::TypeError::New(env, "argument " + std::to_string(i) + " must be a non-empty BigUint64Array");
  }
  return reinterpret_cast<uint64_t *>(static_cast<uint8_t *>(t.ArrayBuffer().Data()) + t.ByteOffset());
}

}  // namespace xcmio
