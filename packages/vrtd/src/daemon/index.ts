// The daemon side of @x/vrtd: vrtd in TypeScript (upstream's rules, simulated / file / mock / PCI devices).
export { checkDevicePermission, type EffectiveRole, effectiveRole, FLAG_KEYS, V1_NEEDS } from './auth.js'
export {
  type BarSpec,
  type Config,
  ConfigError,
  DEFAULT_CONFIG_PATH,
  type DevicePolicy,
  type DeviceSpec,
  type DeviceType,
  globSync,
  type LoadConfigOptions,
  loadConfig,
  normalizeBdf,
  type PolicyFlag,
  type Principal,
  parseSize,
  type Role,
} from './config.js'
export { type ClientInfo, Daemon, type DaemonOptions } from './daemon.js'
export {
  type SimulatorConfigOptions,
  simulatorConfig,
  UPSTREAM_CONFIG_V0,
  UPSTREAM_CONFIG_V1,
} from './default-config.js'
export { type BarSlot, closeDevices, type Device as DaemonDevice, openDevices } from './devices.js'
export { handleRequest, type Outcome, type RequestContext } from './handlers.js'
export { type IdentityResolver, nssResolver } from './identity.js'
export { type IniHandler, parseIni } from './ini.js'
export { LEVELS, Logger, type LoggerOptions, type LogLevel, type LogRecord, type LogSink } from './log.js'
export { type ActivationFd, activationSocket, sdNotify } from './systemd.js'
