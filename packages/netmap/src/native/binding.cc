// Addon entry: the ABI constants (sizeof/offsetof, ioctl numbers), the native backend's control calls
// (open /dev/netmap, NIOCCTRL register/port-info, NIOC[TR]XSYNC) and mkfifo for the shm backend's doorbells.
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <x/native.h>

#include "netmap_abi.h"

namespace {

#define SET(name, v) c.Set(name, Napi::Number::New(env, static_cast<double>(v)))
#define SIZEOF(T) SET("sizeof_" #T, sizeof(struct T))
#define OFFSETOF(T, F) SET("offsetof_" #T "_" #F, offsetof(struct T, F))

Napi::Object Constants(Napi::Env env) {
  Napi::Object c = Napi::Object::New(env);
  SIZEOF(netmap_slot); SIZEOF(netmap_ring); SIZEOF(netmap_if); SIZEOF(nmreq_header); SIZEOF(nmreq_register);
  SIZEOF(nmreq_option); SIZEOF(nmreq_port_info_get); SIZEOF(nmreq);
  SET("alignof_netmap_ring", alignof(struct netmap_ring));
  OFFSETOF(netmap_slot, buf_idx); OFFSETOF(netmap_slot, len); OFFSETOF(netmap_slot, flags); OFFSETOF(netmap_slot, ptr);
  OFFSETOF(netmap_ring, buf_ofs); OFFSETOF(netmap_ring, num_slots); OFFSETOF(netmap_ring, nr_buf_size);
  OFFSETOF(netmap_ring, ringid); OFFSETOF(netmap_ring, dir); OFFSETOF(netmap_ring, head); OFFSETOF(netmap_ring, cur);
  OFFSETOF(netmap_ring, tail); OFFSETOF(netmap_ring, flags); OFFSETOF(netmap_ring, ts);
  OFFSETOF(netmap_ring, offset_mask); OFFSETOF(netmap_ring, buf_align); OFFSETOF(netmap_ring, sem);
  OFFSETOF(netmap_ring, slot);
  OFFSETOF(netmap_if, ni_name); OFFSETOF(netmap_if, ni_version); OFFSETOF(netmap_if, ni_flags);
  OFFSETOF(netmap_if, ni_tx_rings); OFFSETOF(netmap_if, ni_rx_rings); OFFSETOF(netmap_if, ni_bufs_head);
  OFFSETOF(netmap_if, ni_host_tx_rings); OFFSETOF(netmap_if, ni_host_rx_rings); OFFSETOF(netmap_if, ring_ofs);
  OFFSETOF(nmreq_header, nr_version); OFFSETOF(nmreq_header, nr_reqtype); OFFSETOF(nmreq_header, nr_name);
  OFFSETOF(nmreq_header, nr_options); OFFSETOF(nmreq_header, nr_body);
  OFFSETOF(nmreq_register, nr_offset); OFFSETOF(nmreq_register, nr_memsize); OFFSETOF(nmreq_register, nr_tx_slots);
  OFFSETOF(nmreq_register, nr_rx_slots); OFFSETOF(nmreq_register, nr_tx_rings); OFFSETOF(nmreq_register, nr_rx_rings);
  OFFSETOF(nmreq_register, nr_host_tx_rings); OFFSETOF(nmreq_register, nr_host_rx_rings);
  OFFSETOF(nmreq_register, nr_mem_id); OFFSETOF(nmreq_register, nr_ringid); OFFSETOF(nmreq_register, nr_mode);
  OFFSETOF(nmreq_register, nr_extra_bufs); OFFSETOF(nmreq_register, nr_flags);
  OFFSETOF(nmreq, nr_version); OFFSETOF(nmreq, nr_flags);
  SET("NIOCGINFO", NIOCGINFO); SET("NIOCREGIF", NIOCREGIF); SET("NIOCTXSYNC", NIOCTXSYNC);
  SET("NIOCRXSYNC", NIOCRXSYNC); SET("NIOCCONFIG", NIOCCONFIG); SET("NIOCCTRL", NIOCCTRL);
  SET("NETMAP_API", NETMAP_API);
  return c;
}

// nm_open() → fd; throws (ENOENT when there is no module)
Napi::Value NmOpen(const Napi::CallbackInfo &info) {
  int fd = open("/dev/netmap", O_RDWR | O_CLOEXEC);
  if (fd < 0) return x::ThrowErrno(info.Env(), "open(/dev/netmap)");
  return Napi::Number::New(info.Env(), fd);
}

// nioc_register(fd, name, mode, ringid, flags, memId, txRings, rxRings, txSlots, rxSlots, extraBufs)
Napi::Value NiocRegister(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = x::IntArg(info, 0);
  std::string name = info[1].As<Napi::String>().Utf8Value();
  struct nmreq_header hdr;
  struct nmreq_register reg;
  memset(&hdr, 0, sizeof hdr);
  memset(&reg, 0, sizeof reg);
  if (name.size() >= NETMAP_REQ_IFNAMSIZ) return x::ThrowRange(env, "ERR_OUT_OF_RANGE", "port name too long");
  memcpy(hdr.nr_name, name.data(), name.size());
  hdr.nr_version = NETMAP_API;
  hdr.nr_reqtype = 1;  // NETMAP_REQ_REGISTER
  hdr.nr_body = reinterpret_cast<uintptr_t>(&reg);
  reg.nr_mode = x::UintArg(info, 2);
  reg.nr_ringid = static_cast<uint16_t>(x::UintArg(info, 3));
  reg.nr_flags = static_cast<uint64_t>(x::Int64Arg(info, 4));
  reg.nr_mem_id = static_cast<uint16_t>(x::UintArg(info, 5));
  reg.nr_tx_rings = static_cast<uint16_t>(x::UintArg(info, 6));
  reg.nr_rx_rings = static_cast<uint16_t>(x::UintArg(info, 7));
  reg.nr_tx_slots = x::UintArg(info, 8);
  reg.nr_rx_slots = x::UintArg(info, 9);
  reg.nr_extra_bufs = x::UintArg(info, 10);
  if (ioctl(fd, NIOCCTRL, &hdr) < 0) return x::ThrowErrno(env, "ioctl(NIOCCTRL)");
  Napi::Object r = Napi::Object::New(env);
  r.Set("offset", Napi::Number::New(env, static_cast<double>(reg.nr_offset)));
  r.Set("memsize", Napi::Number::New(env, static_cast<double>(reg.nr_memsize)));
  r.Set("txSlots", reg.nr_tx_slots);
  r.Set("rxSlots", reg.nr_rx_slots);
  r.Set("txRings", reg.nr_tx_rings);
  r.Set("rxRings", reg.nr_rx_rings);
  r.Set("hostTxRings", reg.nr_host_tx_rings);
  r.Set("hostRxRings", reg.nr_host_rx_rings);
  r.Set("memId", reg.nr_mem_id);
  r.Set("extraBufs", reg.nr_extra_bufs);
  return r;
}

// nioc_port_info(fd, name) → 0 or -errno (the probe: ENOENT no module, ENXIO no port, EACCES)
Napi::Value NiocPortInfo(const Napi::CallbackInfo &info) {
  int fd = x::IntArg(info, 0);
  std::string name = info[1].As<Napi::String>().Utf8Value();
  struct nmreq_header hdr;
  struct nmreq_port_info_get pi;
  memset(&hdr, 0, sizeof hdr);
  memset(&pi, 0, sizeof pi);
  strncpy(hdr.nr_name, name.c_str(), NETMAP_REQ_IFNAMSIZ - 1);
  hdr.nr_version = NETMAP_API;
  hdr.nr_reqtype = 2;  // NETMAP_REQ_PORT_INFO_GET
  hdr.nr_body = reinterpret_cast<uintptr_t>(&pi);
  int r = ioctl(fd, NIOCCTRL, &hdr);
  return Napi::Number::New(info.Env(), r < 0 ? -errno : 0);
}

// nioc_txsync(fd) / nioc_rxsync(fd) → 0 or -errno (hot path: no throw)
Napi::Value NiocTxSync(const Napi::CallbackInfo &info) {
  int r = ioctl(x::IntArg(info, 0), NIOCTXSYNC, 0);
  return Napi::Number::New(info.Env(), r < 0 ? -errno : 0);
}
Napi::Value NiocRxSync(const Napi::CallbackInfo &info) {
  int r = ioctl(x::IntArg(info, 0), NIOCRXSYNC, 0);
  return Napi::Number::New(info.Env(), r < 0 ? -errno : 0);
}

// mkfifo(path, mode) → 0 or -errno (EEXIST is the caller's business)
Napi::Value MkFifo(const Napi::CallbackInfo &info) {
  std::string path = info[0].As<Napi::String>().Utf8Value();
  int r = mkfifo(path.c_str(), static_cast<mode_t>(x::UintArg(info, 1)));
  return Napi::Number::New(info.Env(), r < 0 ? -errno : 0);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("constants", Constants(env));
  exports.Set("nm_open", Napi::Function::New(env, NmOpen, "nm_open"));
  exports.Set("nioc_register", Napi::Function::New(env, NiocRegister, "nioc_register"));
  exports.Set("nioc_port_info", Napi::Function::New(env, NiocPortInfo, "nioc_port_info"));
  exports.Set("nioc_txsync", Napi::Function::New(env, NiocTxSync, "nioc_txsync"));
  exports.Set("nioc_rxsync", Napi::Function::New(env, NiocRxSync, "nioc_rxsync"));
  exports.Set("mkfifo", Napi::Function::New(env, MkFifo, "mkfifo"));
  return exports;
}

}  // namespace

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return Init(env, exports); }

NODE_API_MODULE(binding, InitAddon)
