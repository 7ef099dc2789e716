// Dispatching yields to handlers by GIO domain: manual yields whose reason is a key go to that handler; everything
// else (automatic yields, rx-accepted/rejected, tx-exception, unknown domains) goes to `fallback` — or, with none,
// automatic yields are just acknowledged and manual ones end the session as the stock CLI does.
import type { YieldHandler } from './types.js'

export function routeYields(byDomain: Record<number, YieldHandler>, fallback?: YieldHandler): YieldHandler {
  const table = new Map<number, YieldHandler>(Object.entries(byDomain).map(([k, v]) => [Number(k), v]))
  return (req, session) => {
    if (req.cmd === 1) {
      const h = table.get(req.reason)
      if (h) return h(req, session)
    }
    return fallback?.(req, session)
  }
}
