// bpf(2): map create/update/lookup/delete, program load (with the verifier log on failure), link create. Raw
// syscalls on a zeroed union bpf_attr, no libbpf. Returned fds are the kernel's (O_CLOEXEC); TypeScript owns them.
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "binding.h"

namespace xnative {

namespace {

long Bpf(int cmd, union bpf_attr *attr) { return ::syscall(__NR_bpf, cmd, attr, sizeof(*attr)); }

uint64_t Ptr(const void *p) { return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p)); }

void Name(char *dst, const Napi::Value &v) {
  if (!v.IsString()) return;
  std::string s = v.As<Napi::String>().Utf8Value();
  std::strncpy(dst, s.c_str(), BPF_OBJ_NAME_LEN - 1);
}

// bpf_map_create(type, keySize, valueSize, maxEntries, flags, name?) -> fd
Napi::Value MapCreate(const Napi::CallbackInfo &info) {
  union bpf_attr a;
  std::memset(&a, 0, sizeof a);
  a.map_type = x::UintArg(info, 0);
  a.key_size = x::UintArg(info, 1);
  a.value_size = x::UintArg(info, 2);
  a.max_entries = x::UintArg(info, 3);
  a.map_flags = x::UintArg(info, 4);
  if (info.Length() > 5) Name(a.map_name, info[5]);
  long fd = Bpf(BPF_MAP_CREATE, &a);
  if (fd < 0) throw x::ErrnoError(info.Env(), errno, "bpf(BPF_MAP_CREATE)");
  return Napi::Number::New(info.Env(), static_cast<double>(fd));
}

// bpf_map_update_elem(fd, key, value, flags)
Napi::Value MapUpdate(const Napi::CallbackInfo &info) {
  x::Bytes key = x::ViewOf(info.Env(), info[1]);
  x::Bytes value = x::ViewOf(info.Env(), info[2]);
  union bpf_attr a;
  std::memset(&a, 0, sizeof a);
  a.map_fd = x::UintArg(info, 0);
  a.key = Ptr(key.data);
  a.value = Ptr(value.data);
  a.flags = x::UintArg(info, 3);
  if (Bpf(BPF_MAP_UPDATE_ELEM, &a) < 0) throw x::ErrnoError(info.Env(), errno, "bpf(BPF_MAP_UPDATE_ELEM)");
  return info.Env().Undefined();
}

// bpf_map_lookup_elem(fd, key, valueOut) -> true, or false when the key has no value (ENOENT)
Napi::Value MapLookup(const Napi::CallbackInfo &info) {
  x::Bytes key = x::ViewOf(info.Env(), info[1]);
  x::Bytes value = x::ViewOf(info.Env(), info[2]);
  union bpf_attr a;
  std::memset(&a, 0, sizeof a);
  a.map_fd = x::UintArg(info, 0);
  a.key = Ptr(key.data);
  a.value = Ptr(value.data);
  if (Bpf(BPF_MAP_LOOKUP_ELEM, &a) < 0) {
    if (errno == ENOENT) return Napi::Boolean::New(info.Env(), false);
    throw x::ErrnoError(info.Env(), errno, "bpf(BPF_MAP_LOOKUP_ELEM)");
  }
  return Napi::Boolean::New(info.Env(), true);
}

// bpf_map_delete_elem(fd, key) -> true, or false when the key was not there (ENOENT)
Napi::Value MapDelete(const Napi::CallbackInfo &info) {
  x::Bytes key = x::ViewOf(info.Env(), info[1]);
  union bpf_attr a;
  std::memset(&a, 0, sizeof a);
  a.map_fd = x::UintArg(info, 0);
  a.key = Ptr(key.data);
  if (Bpf(BPF_MAP_DELETE_ELEM, &a) < 0) {
    if (errno == ENOENT) return Napi::Boolean::New(info.Env(), false);
    throw x::ErrnoError(info.Env(), errno, "bpf(BPF_MAP_DELETE_ELEM)");
  }
  return Napi::Boolean::New(info.Env(), true);
}

// bpf_prog_load(type, insns, license, name?, expectedAttachType) -> fd. On failure the load is retried with
// log_level 1 and the error carries the verifier's log as `log`.
Napi::Value ProgLoad(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  x::Bytes insns = x::ViewOf(env, info[1]);
  if (insns.length == 0 || insns.length % sizeof(struct bpf_insn) != 0) {
    throw Napi::RangeError::New(env, "insns must be a whole number of 8-byte instructions");
  }
  if (!info[2].IsString()) throw Napi::TypeError::New(env, "license must be a string");
  std::string license = info[2].As<Napi::String>().Utf8Value();
  union bpf_attr a;
  std::memset(&a, 0, sizeof a);
  a.prog_type = x::UintArg(info, 0);
  a.insn_cnt = static_cast<uint32_t>(insns.length / sizeof(struct bpf_insn));
  a.insns = Ptr(insns.data);
  a.license = Ptr(license.c_str());
  if (info.Length() > 3) Name(a.prog_name, info[3]);
  if (info.Length() > 4) a.expected_attach_type = x::UintArg(info, 4);
  long fd = Bpf(BPF_PROG_LOAD, &a);
  if (fd >= 0) return Napi::Number::New(env, static_cast<double>(fd));
  int err = errno;
  std::vector<char> log(1 << 16, '\0');
  a.log_level = 1;
  a.log_size = static_cast<uint32_t>(log.size());
  a.log_buf = Ptr(log.data());
  fd = Bpf(BPF_PROG_LOAD, &a);
  if (fd >= 0) return Napi::Number::New(env, static_cast<double>(fd));  // loaded with logging on: fine
  Napi::Error e = x::ErrnoError(env, errno != 0 ? errno : err, "bpf(BPF_PROG_LOAD)");
  e.Set("log", Napi::String::New(env, log.data()));
  throw e;
}

// bpf_link_create(progFd, targetIfindex, attachType, flags) -> link fd
Napi::Value LinkCreate(const Napi::CallbackInfo &info) {
  union bpf_attr a;
  std::memset(&a, 0, sizeof a);
  a.link_create.prog_fd = x::UintArg(info, 0);
  a.link_create.target_ifindex = x::UintArg(info, 1);
  a.link_create.attach_type = x::UintArg(info, 2);
  a.link_create.flags = x::UintArg(info, 3);
  long fd = Bpf(BPF_LINK_CREATE, &a);
  if (fd < 0) throw x::ErrnoError(info.Env(), errno, "bpf(BPF_LINK_CREATE)");
  return Napi::Number::New(info.Env(), static_cast<double>(fd));
}

}  // namespace

void InitBpf(Napi::Env env, Napi::Object exports) {
  exports.Set("bpf_map_create", Napi::Function::New(env, MapCreate, "bpf_map_create"));
  exports.Set("bpf_map_update_elem", Napi::Function::New(env, MapUpdate, "bpf_map_update_elem"));
  exports.Set("bpf_map_lookup_elem", Napi::Function::New(env, MapLookup, "bpf_map_lookup_elem"));
  exports.Set("bpf_map_delete_elem", Napi::Function::New(env, MapDelete, "bpf_map_delete_elem"));
  exports.Set("bpf_prog_load", Napi::Function::New(env, ProgLoad, "bpf_prog_load"));
  exports.Set("bpf_link_create", Napi::Function::New(env, LinkCreate, "bpf_link_create"));
  // Constants live next to the calls that use them (constants.cc is shared by every concern).
  Napi::Object c = exports.Get("constants").As<Napi::Object>();
#define X(name) c.Set(#name, Napi::Number::New(env, static_cast<double>(name)))
  X(BPF_MAP_TYPE_HASH); X(BPF_MAP_TYPE_ARRAY); X(BPF_MAP_TYPE_XSKMAP); X(BPF_MAP_TYPE_DEVMAP);
  X(BPF_MAP_TYPE_CPUMAP); X(BPF_PROG_TYPE_XDP); X(BPF_PROG_TYPE_SOCKET_FILTER); X(BPF_XDP);
  X(BPF_ANY); X(BPF_NOEXIST); X(BPF_EXIST); X(BPF_PSEUDO_MAP_FD); X(BPF_OBJ_NAME_LEN);
  X(XDP_FLAGS_UPDATE_IF_NOEXIST); X(XDP_FLAGS_SKB_MODE); X(XDP_FLAGS_DRV_MODE); X(XDP_FLAGS_HW_MODE);
  X(XDP_FLAGS_REPLACE); X(XDP_ABORTED); X(XDP_DROP); X(XDP_PASS); X(XDP_TX); X(XDP_REDIRECT);
  c.Set("sizeof_bpf_insn", Napi::Number::New(env, static_cast<double>(sizeof(struct bpf_insn))));
#undef X
}

}  // namespace xnative
