// netmap_abi.h: the netmap ABI structs (API 14, Linux x86-64), written from the reference (sys/net/netmap.h,
// sys/net/netmap_legacy.h @89607e14) because no netmap headers are installed; every size and offset is asserted.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/time.h>

#define NETMAP_API 14
#define NM_CACHE_ALIGN 128
#define NM_IFNAMSZ 16
#define NETMAP_REQ_IFNAMSIZ 64

struct netmap_slot {
  uint32_t buf_idx;
  uint16_t len;
  uint16_t flags;
  uint64_t ptr;
};

struct netmap_ring {
  const int64_t buf_ofs;
  const uint32_t num_slots;
  const uint32_t nr_buf_size;
  const uint16_t ringid;
  const uint16_t dir;
  uint32_t head;
  uint32_t cur;
  uint32_t tail;
  uint32_t flags;
  struct timeval ts;
  const uint64_t offset_mask;
  const uint64_t buf_align;
  uint8_t sem[128] __attribute__((__aligned__(NM_CACHE_ALIGN)));
  struct netmap_slot slot[0];
};

struct netmap_if {
  char ni_name[NM_IFNAMSZ];
  const uint32_t ni_version;
  const uint32_t ni_flags;
  const uint32_t ni_tx_rings;
  const uint32_t ni_rx_rings;
  uint32_t ni_bufs_head;
  const uint32_t ni_host_tx_rings;
  const uint32_t ni_host_rx_rings;
  uint32_t ni_spare1[3];
  const ssize_t ring_ofs[0];
};

struct nmreq_header {
  uint16_t nr_version;
  uint16_t nr_reqtype;
  uint32_t nr_reserved;
  char nr_name[NETMAP_REQ_IFNAMSIZ];
  uint64_t nr_options;
  uint64_t nr_body;
};

struct nmreq_register {
  uint64_t nr_offset;
  uint64_t nr_memsize;
  uint32_t nr_tx_slots;
  uint32_t nr_rx_slots;
  uint16_t nr_tx_rings;
  uint16_t nr_rx_rings;
  uint16_t nr_host_tx_rings;
  uint16_t nr_host_rx_rings;
  uint16_t nr_mem_id;
  uint16_t nr_ringid;
  uint32_t nr_mode;
  uint32_t nr_extra_bufs;
  uint64_t nr_flags;
};

struct nmreq_option {
  uint64_t nro_next;
  uint32_t nro_reqtype;
  uint32_t nro_status;
  uint64_t nro_size;
};

struct nmreq_port_info_get {
  uint64_t nr_memsize;
  uint32_t nr_tx_slots;
  uint32_t nr_rx_slots;
  uint16_t nr_tx_rings;
  uint16_t nr_rx_rings;
  uint16_t nr_host_tx_rings;
  uint16_t nr_host_rx_rings;
  uint16_t nr_mem_id;
  uint16_t pad[3];
};

// legacy (NIOCREGIF / NIOCGINFO); only its size is used, for the ioctl numbers
struct nmreq {
  char nr_name[NM_IFNAMSZ];
  uint32_t nr_version;
  uint32_t nr_offset;
  uint32_t nr_memsize;
  uint32_t nr_tx_slots;
  uint32_t nr_rx_slots;
  uint16_t nr_tx_rings;
  uint16_t nr_rx_rings;
  uint16_t nr_ringid;
  uint16_t nr_cmd;
  uint16_t nr_arg1;
  uint16_t nr_arg2;
  uint32_t nr_arg3;
  uint32_t nr_flags;
  uint32_t spare2[1];
};

struct nm_ifreq {
  char nifr_name[NM_IFNAMSZ];
  char data[256];
};

#define NIOCGINFO _IOWR('i', 145, struct nmreq)
#define NIOCREGIF _IOWR('i', 146, struct nmreq)
#define NIOCTXSYNC _IO('i', 148)
#define NIOCRXSYNC _IO('i', 149)
#define NIOCCONFIG _IOWR('i', 150, struct nm_ifreq)
#define NIOCCTRL _IOWR('i', 151, struct nmreq_header)

// the reference's numbers (§2.1–§2.7)
static_assert(sizeof(struct netmap_slot) == 16, "slot");
static_assert(offsetof(struct netmap_slot, len) == 4 && offsetof(struct netmap_slot, flags) == 6 &&
                  offsetof(struct netmap_slot, ptr) == 8, "slot fields");
static_assert(sizeof(struct netmap_ring) == 256 && alignof(struct netmap_ring) == 128, "ring");
static_assert(offsetof(struct netmap_ring, num_slots) == 8 && offsetof(struct netmap_ring, nr_buf_size) == 12 &&
                  offsetof(struct netmap_ring, ringid) == 16 && offsetof(struct netmap_ring, dir) == 18,
              "ring constants");
static_assert(offsetof(struct netmap_ring, head) == 20 && offsetof(struct netmap_ring, cur) == 24 &&
                  offsetof(struct netmap_ring, tail) == 28 && offsetof(struct netmap_ring, flags) == 32,
              "ring indices");
static_assert(offsetof(struct netmap_ring, ts) == 40 && offsetof(struct netmap_ring, offset_mask) == 56 &&
                  offsetof(struct netmap_ring, buf_align) == 64 && offsetof(struct netmap_ring, sem) == 128 &&
                  offsetof(struct netmap_ring, slot) == 256,
              "ring tail part");
static_assert(sizeof(struct netmap_if) == 56 && offsetof(struct netmap_if, ring_ofs) == 56, "netmap_if");
static_assert(offsetof(struct netmap_if, ni_tx_rings) == 24 && offsetof(struct netmap_if, ni_rx_rings) == 28 &&
                  offsetof(struct netmap_if, ni_bufs_head) == 32 && offsetof(struct netmap_if, ni_host_tx_rings) == 36 &&
                  offsetof(struct netmap_if, ni_host_rx_rings) == 40,
              "netmap_if fields");
static_assert(sizeof(struct nmreq_header) == 88 && offsetof(struct nmreq_header, nr_name) == 8 &&
                  offsetof(struct nmreq_header, nr_options) == 72 && offsetof(struct nmreq_header, nr_body) == 80,
              "nmreq_header");
static_assert(sizeof(struct nmreq_register) == 56 && offsetof(struct nmreq_register, nr_tx_slots) == 16 &&
                  offsetof(struct nmreq_register, nr_mem_id) == 32 && offsetof(struct nmreq_register, nr_ringid) == 34 &&
                  offsetof(struct nmreq_register, nr_mode) == 36 && offsetof(struct nmreq_register, nr_extra_bufs) == 40 &&
                  offsetof(struct nmreq_register, nr_flags) == 48,
              "nmreq_register");
static_assert(sizeof(struct nmreq_option) == 24, "nmreq_option");
static_assert(sizeof(struct nmreq_port_info_get) == 32, "nmreq_port_info_get");
static_assert(sizeof(struct nmreq) == 60 && offsetof(struct nmreq, nr_flags) == 52, "nmreq");
static_assert(sizeof(struct timeval) == 16, "timeval");
static_assert(NIOCCTRL == 0xC0586997u && NIOCREGIF == 0xC03C6992u && NIOCGINFO == 0xC03C6991u, "ioctls");
static_assert(NIOCTXSYNC == 0x6994 && NIOCRXSYNC == 0x6995 && NIOCCONFIG == 0xC1106996u, "sync ioctls");
