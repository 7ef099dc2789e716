// BPF filter strings: pcap_compile on a dead DLT_EN10MB handle, returned as struct sock_filter[] bytes (struct
// bpf_insn has the same layout), ready for SO_ATTACH_FILTER or for bpf_filter() in a receive loop.
#include "libpcap.h"

#include <string>

#include "binding.h"

namespace nethuns {

namespace {

// bpf_compile(expr, snaplen, optimize) -> Uint8Array | error text
Napi::Value BpfCompile(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw Napi::TypeError::New(env, "filter must be a string");
  std::string expr = info[0].As<Napi::String>().Utf8Value();
  int snaplen = x::IntArg(info, 1);
  int optimize = x::IntArg(info, 2);
  pcap_t *p = lp::pcap_open_dead(DLT_EN10MB, snaplen);
  if (p == nullptr) throw Napi::Error::New(env, "pcap_open_dead failed");
  struct bpf_program prog {};
  if (lp::pcap_compile(p, &prog, expr.c_str(), optimize, PCAP_NETMASK_UNKNOWN) < 0) {
    std::string err = lp::pcap_geterr(p);
    lp::pcap_close(p);
    return Napi::String::New(env, err);
  }
  size_t bytes = static_cast<size_t>(prog.bf_len) * sizeof(struct bpf_insn);
  Napi::Uint8Array out = Napi::Uint8Array::New(env, bytes);
  std::memcpy(out.Data(), prog.bf_insns, bytes);
  lp::pcap_freecode(&prog);
  lp::pcap_close(p);
  return out;
}

}  // namespace

void InitBpf(Napi::Env env, Napi::Object exports) {
  exports.Set("bpf_compile", Napi::Function::New(env, BpfCompile, "bpf_compile"));
  exports.Set("pcap_lib_version", Napi::String::New(env, lp::pcap_lib_version()));
}

}  // namespace nethuns
