// The @x/nethuns addon: one Init per backend, each exporting a class whose methods mirror the kernel calls.
#pragma once
#include <x/native.h>

namespace nethuns {

void InitConstants(Napi::Env env, Napi::Object exports);
void InitAfPacket(Napi::Env env, Napi::Object exports);  // AfPacket: TPACKET_V3 RX/TX rings
void InitAfXdp(Napi::Env env, Napi::Object exports);     // AfXdp: UMEM, fill/completion/RX/TX rings
#ifdef NETHUNS_HAVE_PCAP
void InitBpf(Napi::Env env, Napi::Object exports);       // bpf_compile (libpcap)
void InitPcap(Napi::Env env, Napi::Object exports);      // Pcap: libpcap live and offline
#endif

struct AddonData : x::EnvData {
  explicit AddonData(Napi::Env env) : x::EnvData(env) {}
};

}  // namespace nethuns
