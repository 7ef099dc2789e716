// x/bytes.h — a (pointer, length) window of a JS ArrayBuffer, TypedArray or DataView, bounds-checked.
// TypeScript validates and passes (view, offset, length); C++ only re-checks bounds so it can never overrun.
#pragma once
#include <napi.h>

#include <cstddef>
#include <cstdint>

#include "errno.h"

namespace x {

struct Bytes {
  uint8_t *data = nullptr;
  size_t length = 0;
};

// Whole contents of v (ArrayBuffer, any TypedArray or DataView; SharedArrayBuffer-backed views included).
inline Bytes ViewOf(Napi::Env env, Napi::Value v) {
  Bytes b;
  if (v.IsTypedArray()) {
    napi_typedarray_type type;
    size_t len, off;
    void *data;
    napi_value ab;
    NAPI_THROW_IF_FAILED(env, napi_get_typedarray_info(env, v, &type, &len, &data, &ab, &off), b);
    size_t elem = 1;
    switch (type) {
      case napi_int16_array: case napi_uint16_array: elem = 2; break;
      case napi_int32_array: case napi_uint32_array: case napi_float32_array: elem = 4; break;
      case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: elem = 8; break;
      default: elem = 1;
    }
    b.data = static_cast<uint8_t *>(data);
    b.length = len * elem;
  } else if (v.IsDataView()) {
    Napi::DataView dv = v.As<Napi::DataView>();
    b.data = static_cast<uint8_t *>(dv.Data());
    b.length = dv.ByteLength();
  } else if (v.IsArrayBuffer()) {
    Napi::ArrayBuffer ab = v.As<Napi::ArrayBuffer>();
    b.data = static_cast<uint8_t *>(ab.Data());
    b.length = ab.ByteLength();
  } else {
    throw Napi::TypeError::New(env, "expected an ArrayBuffer, TypedArray or DataView");
  }
  return b;
}

// The window [offset, offset + length) of v; length < 0 means "to the end".
inline Bytes WindowOf(Napi::Env env, Napi::Value v, int64_t offset, int64_t length) {
  Bytes b = ViewOf(env, v);
  if (offset < 0 || static_cast<uint64_t>(offset) > b.length) {
    throw Napi::RangeError::New(env, "offset is out of bounds");
  }
  size_t rest = b.length - static_cast<size_t>(offset);
  if (length < 0) length = static_cast<int64_t>(rest);
  if (static_cast<uint64_t>(length) > rest) throw Napi::RangeError::New(env, "length is out of bounds");
  b.data += offset;
  b.length = static_cast<size_t>(length);
  return b;
}

// Argument i as (view, offset, length) starting at info[i].
inline Bytes WindowArg(const Napi::CallbackInfo &info, size_t i) {
  Napi::Env env = info.Env();
  int64_t off = info.Length() > i + 1 && info[i + 1].IsNumber() ? info[i + 1].As<Napi::Number>().Int64Value() : 0;
  int64_t len = info.Length() > i + 2 && info[i + 2].IsNumber() ? info[i + 2].As<Napi::Number>().Int64Value() : -1;
  return WindowOf(env, info[i], off, len);
}

// Scalar arguments: one napi call each (napi_get_value_* already rejects non-numbers), a TypeError otherwise.
inline Napi::TypeError NotNumber(Napi::Env env, size_t i) {
  return Napi::TypeError::New(env, "argument " + std::to_string(i) + " must be a number");
}

inline int IntArg(const Napi::CallbackInfo &info, size_t i) {
  int32_t v;
  if (i >= info.Length() || napi_get_value_int32(info.Env(), info[i], &v) != napi_ok) throw NotNumber(info.Env(), i);
  return v;
}

inline uint32_t UintArg(const Napi::CallbackInfo &info, size_t i) {
  uint32_t v;
  if (i >= info.Length() || napi_get_value_uint32(info.Env(), info[i], &v) != napi_ok) throw NotNumber(info.Env(), i);
  return v;
}

inline int64_t Int64Arg(const Napi::CallbackInfo &info, size_t i) {
  int64_t v;
  if (i >= info.Length() || napi_get_value_int64(info.Env(), info[i], &v) != napi_ok) throw NotNumber(info.Env(), i);
  return v;
}

}  // namespace x
