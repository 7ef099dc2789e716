// Network namespaces for the NIC and host-ring tests, from the shared kit (tools/testkit/netns.mjs): every veth/TAP
// lives in a namespace made here with a unique name and removed in afterAll, even on failure. Nothing touches the
// root namespace.
import { probeNetns } from '../../../tools/testkit/netns.mjs'

export {
  addVeth,
  createNetns,
  deleteNetns,
  execInNs,
  ipn,
  nodeInNs,
  spawnNode,
  uniqueName as netnsName,
} from '../../../tools/testkit/netns.mjs'

export const netnsProbe = (): { ok: boolean; reason: string } =>
  probeNetns({ root: 'netns, AF_PACKET, TUNSETIFF, bpf' })
