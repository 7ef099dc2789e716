// Kernel constants and struct layouts, exported from C so TypeScript never retypes a number.
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <uv.h>

#include <cstddef>

#include "binding.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

namespace xnative {

void InitConstants(Napi::Env env, Napi::Object exports) {
  Napi::Object c = Napi::Object::New(env);
#define X(name) c.Set(#name, Napi::Number::New(env, static_cast<double>(name)))
  // socket domains, types, levels
  X(AF_UNSPEC); X(AF_UNIX); X(AF_INET); X(AF_INET6); X(AF_PACKET); X(AF_XDP); X(AF_NETLINK);
  X(SOCK_STREAM); X(SOCK_DGRAM); X(SOCK_RAW); X(SOCK_SEQPACKET); X(SOCK_NONBLOCK); X(SOCK_CLOEXEC);
  X(SOL_SOCKET); X(SOL_PACKET); X(SOL_XDP); X(IPPROTO_IP); X(IPPROTO_IPV6); X(IPPROTO_TCP); X(IPPROTO_UDP);
  // SOL_SOCKET options
  X(SO_REUSEADDR); X(SO_REUSEPORT); X(SO_RCVBUF); X(SO_SNDBUF); X(SO_RCVBUFFORCE); X(SO_SNDBUFFORCE);
  X(SO_KEEPALIVE); X(SO_BINDTODEVICE); X(SO_PEERCRED); X(SO_PASSCRED); X(SO_ERROR); X(SO_TYPE);
  X(SO_DOMAIN); X(SO_BROADCAST); X(SO_PRIORITY); X(SO_RCVTIMEO); X(SO_SNDTIMEO); X(SO_BUSY_POLL);
  X(SO_ATTACH_FILTER); X(SO_DETACH_FILTER); X(SO_LOCK_FILTER); X(SO_TIMESTAMP); X(SO_TIMESTAMPNS);
  X(SO_INCOMING_CPU); X(SO_ZEROCOPY);
  // TCP / IPv6
  X(TCP_NODELAY); X(TCP_KEEPIDLE); X(TCP_KEEPINTVL); X(TCP_KEEPCNT); X(TCP_USER_TIMEOUT); X(TCP_QUICKACK);
  X(IPV6_V6ONLY); X(IPV6_UNICAST_HOPS); X(IPV6_MULTICAST_IF); X(IPV6_MULTICAST_HOPS); X(IPV6_RECVPKTINFO);
  X(IPV6_PKTINFO);
  // AF_PACKET
  X(ETH_P_ALL); X(ETH_P_IP); X(ETH_P_IPV6); X(ETH_P_ARP); X(ETH_ALEN);
  X(PACKET_ADD_MEMBERSHIP); X(PACKET_DROP_MEMBERSHIP); X(PACKET_RX_RING); X(PACKET_TX_RING);
  X(PACKET_STATISTICS); X(PACKET_VERSION); X(PACKET_HDRLEN); X(PACKET_RESERVE); X(PACKET_LOSS);
  X(PACKET_FANOUT); X(PACKET_QDISC_BYPASS); X(PACKET_AUXDATA); X(PACKET_IGNORE_OUTGOING);
  X(PACKET_MR_PROMISC); X(PACKET_HOST); X(PACKET_BROADCAST); X(PACKET_MULTICAST); X(PACKET_OTHERHOST);
  X(PACKET_OUTGOING); X(TPACKET_V1); X(TPACKET_V2); X(TPACKET_V3);
  // AF_XDP
  X(XDP_MMAP_OFFSETS); X(XDP_RX_RING); X(XDP_TX_RING); X(XDP_UMEM_REG); X(XDP_UMEM_FILL_RING);
  X(XDP_UMEM_COMPLETION_RING); X(XDP_STATISTICS); X(XDP_OPTIONS); X(XDP_SHARED_UMEM); X(XDP_COPY);
  X(XDP_ZEROCOPY); X(XDP_USE_NEED_WAKEUP); X(XDP_PGOFF_RX_RING); X(XDP_PGOFF_TX_RING);
  X(XDP_UMEM_PGOFF_FILL_RING); X(XDP_UMEM_PGOFF_COMPLETION_RING); X(XDP_RING_NEED_WAKEUP);
  // messages
  X(MSG_DONTWAIT); X(MSG_PEEK); X(MSG_TRUNC); X(MSG_CTRUNC); X(MSG_WAITALL); X(MSG_NOSIGNAL); X(MSG_EOR);
  X(MSG_CMSG_CLOEXEC); X(MSG_MORE); X(SHUT_RD); X(SHUT_WR); X(SHUT_RDWR);
  // fds, memfd, seals, eventfd
  X(O_RDONLY); X(O_WRONLY); X(O_RDWR); X(O_NONBLOCK); X(O_CLOEXEC);
  X(F_GETFD); X(F_SETFD); X(F_GETFL); X(F_SETFL); X(F_DUPFD_CLOEXEC); X(FD_CLOEXEC);
  X(F_ADD_SEALS); X(F_GET_SEALS); X(F_SEAL_SEAL); X(F_SEAL_SHRINK); X(F_SEAL_GROW); X(F_SEAL_WRITE);
  X(F_SEAL_FUTURE_WRITE);
  X(MFD_CLOEXEC); X(MFD_ALLOW_SEALING); X(MFD_NOEXEC_SEAL); X(MFD_EXEC);
  X(EFD_CLOEXEC); X(EFD_NONBLOCK); X(EFD_SEMAPHORE);
  // mmap
  X(PROT_NONE); X(PROT_READ); X(PROT_WRITE); X(PROT_EXEC); X(MAP_SHARED); X(MAP_PRIVATE); X(MAP_ANONYMOUS);
  X(MAP_FIXED); X(MAP_FIXED_NOREPLACE); X(MAP_POPULATE); X(MAP_LOCKED); X(MAP_NORESERVE); X(MS_SYNC);
  X(MS_ASYNC); X(MS_INVALIDATE);
  // TUN/TAP and interface flags
  X(TUNSETIFF); X(TUNGETIFF); X(TUNSETPERSIST); X(TUNSETOWNER); X(TUNSETGROUP); X(TUNSETOFFLOAD);
  X(TUNSETVNETHDRSZ); X(IFF_TUN); X(IFF_TAP); X(IFF_NO_PI); X(IFF_MULTI_QUEUE); X(IFF_VNET_HDR);
  X(IFF_UP); X(IFF_RUNNING); X(IFF_PROMISC); X(IFNAMSIZ); X(SIOCGIFINDEX); X(SIOCGIFFLAGS);
  X(SIOCSIFFLAGS); X(SIOCGIFMTU); X(SIOCSIFMTU); X(SIOCGIFHWADDR);
  // libuv poll events
  X(UV_READABLE); X(UV_WRITABLE); X(UV_DISCONNECT); X(UV_PRIORITIZED);
#undef X
#define S(type) c.Set("sizeof_" #type, Napi::Number::New(env, static_cast<double>(sizeof(struct type))))
#define O(type, field) \
  c.Set("offsetof_" #type "_" #field, Napi::Number::New(env, static_cast<double>(offsetof(struct type, field))))
  S(sockaddr_un); O(sockaddr_un, sun_family); O(sockaddr_un, sun_path);
  S(sockaddr_in); O(sockaddr_in, sin_family); O(sockaddr_in, sin_port); O(sockaddr_in, sin_addr);
  S(sockaddr_in6); O(sockaddr_in6, sin6_family); O(sockaddr_in6, sin6_port); O(sockaddr_in6, sin6_flowinfo);
  O(sockaddr_in6, sin6_addr); O(sockaddr_in6, sin6_scope_id);
  S(sockaddr_ll); O(sockaddr_ll, sll_family); O(sockaddr_ll, sll_protocol); O(sockaddr_ll, sll_ifindex);
  O(sockaddr_ll, sll_hatype); O(sockaddr_ll, sll_pkttype); O(sockaddr_ll, sll_halen); O(sockaddr_ll, sll_addr);
  S(sockaddr_xdp); O(sockaddr_xdp, sxdp_family); O(sockaddr_xdp, sxdp_flags); O(sockaddr_xdp, sxdp_ifindex);
  O(sockaddr_xdp, sxdp_queue_id); O(sockaddr_xdp, sxdp_shared_umem_fd);
  S(sockaddr_storage);
  S(ucred); O(ucred, pid); O(ucred, uid); O(ucred, gid);
  S(ifreq); O(ifreq, ifr_name); O(ifreq, ifr_flags); O(ifreq, ifr_ifindex); O(ifreq, ifr_mtu);
  S(tpacket_stats); O(tpacket_stats, tp_packets); O(tpacket_stats, tp_drops);
  S(tpacket_stats_v3); O(tpacket_stats_v3, tp_freeze_q_cnt);
  S(linger); S(timeval);
#undef S
#undef O
  exports.Set("constants", c);
}

}  // namespace xnative
