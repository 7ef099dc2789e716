// x/rights.h — the fds of a received SCM_RIGHTS control message, taken so that none can leak.
#pragma once
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>

namespace x {

// Moves the fds the kernel installed for `msg` (after recvmsg) into out[0 … cap) and returns how many. When the
// control data was cut (MSG_CTRUNC) or brought more than `cap` fds, every fd that arrived is closed, MSG_CTRUNC is
// set in msg.msg_flags and 0 is returned: the caller reports the truncation, nothing is left open.
template <typename Fd>
inline size_t TakeRights(msghdr &msg, Fd *out, size_t cap) {
  size_t got = 0;
  bool truncated = (msg.msg_flags & MSG_CTRUNC) != 0;
  for (cmsghdr *c = msg.msg_controllen ? CMSG_FIRSTHDR(&msg) : nullptr; c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    const unsigned char *in = CMSG_DATA(c);
    for (size_t i = 0; i < k; i++) {
      int fd;
      std::memcpy(&fd, in + i * sizeof(int), sizeof fd);
      if (truncated || got >= cap) {
        ::close(fd);
        truncated = true;
      } else {
        out[got++] = static_cast<Fd>(fd);
      }
    }
  }
  if (truncated) {
    for (size_t i = 0; i < got; i++) ::close(static_cast<int>(out[i]));
    msg.msg_flags |= MSG_CTRUNC;
    return 0;
  }
  return got;
}

}  // namespace x
