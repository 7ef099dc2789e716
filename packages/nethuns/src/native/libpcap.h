// libpcap, loaded at run time (dlopen "libpcap.so.0.8" / "libpcap.so.1" / "libpcap.so"): the addon needs pcap.h to
// build but not libpcap to load, so af_packet and af_xdp work on machines without it and the pcap backend and BPF
// filter strings report "not available". Call sites use lp::name(...) with libpcap's own signatures.
#pragma once
#include <pcap/pcap.h>

namespace nethuns {
namespace lp {

#define NETHUNS_PCAP_FUNCS(X)                          \
  X(pcap_activate)                                     \
  X(pcap_close)                                        \
  X(pcap_compile)                                      \
  X(pcap_create)                                       \
  X(pcap_datalink)                                     \
  X(pcap_freecode)                                     \
  X(pcap_get_selectable_fd)                            \
  X(pcap_get_tstamp_precision)                         \
  X(pcap_geterr)                                       \
  X(pcap_inject)                                       \
  X(pcap_lib_version)                                  \
  X(pcap_next_ex)                                      \
  X(pcap_open_dead)                                    \
  X(pcap_open_offline_with_tstamp_precision)           \
  X(pcap_set_buffer_size)                              \
  X(pcap_set_immediate_mode)                           \
  X(pcap_set_promisc)                                  \
  X(pcap_set_snaplen)                                  \
  X(pcap_set_timeout)                                  \
  X(pcap_set_tstamp_precision)                         \
  X(pcap_setdirection)                                 \
  X(pcap_setfilter)                                    \
  X(pcap_setnonblock)                                  \
  X(pcap_stats)                                        \
  X(pcap_statustostr)                                  \
  X(bpf_filter)

#define NETHUNS_PCAP_DECLARE(name) extern decltype(&::name) name;
NETHUNS_PCAP_FUNCS(NETHUNS_PCAP_DECLARE)
#undef NETHUNS_PCAP_DECLARE

// Loads libpcap once per process; true when every function was found.
bool Load();

}  // namespace lp
}  // namespace nethuns
