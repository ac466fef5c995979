// Benchmark preload (bench/lib.ts measuredNode): at exit, write this process's CPU time (user +
// system, all threads) and peak RSS to the file named by TDXKIT_BENCH_USAGE.
'use strict'
process.on('exit', () => {
  const u = process.resourceUsage()
  require('node:fs').writeFileSync(process.env.TDXKIT_BENCH_USAGE, JSON.stringify({cpuMs: (u.userCPUTime + u.systemCPUTime) / 1000, maxRssKb: u.maxRSS}))
})
