// The @x/native addon: one Init per concern, each exporting snake_case names that mirror the syscalls.
#pragma once
#include <x/native.h>

namespace xnative {

void InitConstants(Napi::Env env, Napi::Object exports);
void InitFd(Napi::Env env, Napi::Object exports);      // close, read, write, fcntl, pipe2, memfd, eventfd, ioctl
void InitMmap(Napi::Env env, Napi::Object exports);    // mmap, munmap
void InitSocket(Napi::Env env, Napi::Object exports);  // socket … recvmsg, sockopts, if_nametoindex
void InitWatcher(Napi::Env env, Napi::Object exports); // FdWatcher (uv_poll)
void InitNss(Napi::Env env, Napi::Object exports);     // getpwuid, getpwnam, getgrnam, getgrgid, getgrouplist
void InitMmsg(Napi::Env env, Napi::Object exports);    // recvmmsg
void InitBpf(Napi::Env env, Napi::Object exports);     // bpf(2): maps, programs, links
void InitSendmmsg(Napi::Env env, Napi::Object exports); // sendmmsg with per-datagram SCM_RIGHTS
void InitMsgArena(Napi::Env env, Napi::Object exports); // recvmsg/sendmsg over a buffer validated once

struct AddonData : x::EnvData {
  explicit AddonData(Napi::Env env) : x::EnvData(env) {}
  Napi::FunctionReference watcherCtor;
};

}  // namespace xnative
