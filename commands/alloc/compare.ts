import {Flags} from '../../src/cli/oclif.js'
import {TdxCommand} from '../../src/cli/base.js'
import {guestDriverFactory, loadProfile, simulatedMaxVcpus} from '../../src/app/cost.js'
import {compareStrategies, compareSweep} from '../../src/cost/compare.js'
import {applyOverrides} from '../../src/cost/profile-load.js'
import {builtinProfileNames} from '../../src/cost/profiles.js'
import {comparisonJson, renderComparisonText, renderSweepText, sweepJson} from '../../src/cli/alloc-render.js'
import {sweepChart} from '../../src/cost/report.js'
import {DEFAULT_CHART_SWEEP, parseSweep, parseWorkload, type WorkloadInput} from '../../src/cost/workload.js'
import {OutputTarget} from '../../src/cli/output.js'

export default class AllocCompare extends TdxCommand<typeof AllocCompare> {
  static summary = 'Compare the GetQuote shared-buffer strategies (vmap-mapgpa, swiotlb, dma-coherent, upstream, preshared-pool) on a workload.'
  static description = `Runs the same workload through every real allocator implementation on a simulated TD (nothing is \
signed: the quoting enclave is a stand-in, its service time is modelled) and prices every recorded operation with a cost \
profile whose figures each carry a source and a measured / derived / local / estimated / fact tag. Prints a side-by-side \
table with the winner per row and a plain-language reading of where each strategy breaks. Sizes take units (8KiB, 2GiB), \
durations too (250us, 5ms, 1s). Builtin profiles: ${builtinProfileNames().join(', ')}. The simulated TD is created the way \
KVM creates one (sysinfo read once, TD creation checked against it): --vcpus above the module's MAX_VCPUS_PER_TD is refused \
with the module's status (exit 7). docs/guide/alloc.md explains each strategy and its source.`

  static examples = [
    '<%= config.bin %> alloc compare',
    '<%= config.bin %> alloc compare --vcpus 248 --requests 10000',
    '<%= config.bin %> alloc compare --concurrency 16 --pool-size 64KiB',
    '<%= config.bin %> alloc compare --rate 150 --concurrency 64 --notify',
    '<%= config.bin %> alloc compare --sweep vcpus=8,32,64,128,248 --chart alloc.svg',
    '<%= config.bin %> alloc compare --strategies swiotlb,upstream --swiotlb-size 256KiB --sweep concurrency=8,32,64,128 --chart full.svg',
    '<%= config.bin %> alloc compare --profile my-lab.json --cost t_kick@248=150:measured --json',
  ]

  static flags = {
    requests: Flags.string({summary: 'GetQuote requests to model.', default: '1000'}),
    size: Flags.string({summary: 'Shared buffer per request (pages P = size / 4 KiB).', default: '8KiB'}),
    'request-size': Flags.string({summary: 'Bytes the guest sends (TDREPORT).', default: '1024'}),
    'response-size': Flags.string({summary: 'Bytes of quote the host returns.', default: '5006'}),
    concurrency: Flags.string({summary: 'Callers in flight (closed loop), or the cap on requests in flight with --rate.', default: '1'}),
    rate: Flags.string({summary: 'Open loop: Poisson arrivals at this many requests per second.'}),
    vcpus: Flags.string({summary: 'vCPUs in the TD.', default: '32'}),
    memory: Flags.string({summary: 'TD memory size.', default: '16GiB'}),
    'pool-size': Flags.string({summary: "preshared-pool size, or 'swiotlb' to size it like the kernel's CoCo SWIOTLB.", default: '64KiB'}),
    'swiotlb-size': Flags.string({summary: 'SWIOTLB pool of the swiotlb strategy, like swiotlb=<nslabs> (default: the CoCo rule, 6 % of RAM in [64 MiB, 1 GiB], rounded to a power of two).'}),
    'upstream-kernel': Flags.string({summary: 'Kernel of the upstream strategy: 6.7 (8 KiB buffer) or 7.0 (128 KiB).', options: ['6.7', '7.0'], default: '7.0'}),
    strategies: Flags.string({summary: 'Strategies to compare, comma separated (default: all).'}),
    notify: Flags.boolean({summary: 'Completion by notify interrupt instead of polling.', default: false}),
    'poll-interval': Flags.string({summary: "Guest poll interval Δ (default: the profile's)."}),
    'quote-time': Flags.string({summary: "Host quote service time T_q (default: the profile's)."}),
    'host-workers': Flags.string({summary: "Quotes the host works on in parallel (default: the profile's)."}),
    'on-exhaustion': Flags.string({summary: 'When preshared-pool is full: wait for a buffer, or fail the request (swiotlb always fails, upstream always waits on its mutex).', options: ['wait', 'fail'], default: 'wait'}),
    seed: Flags.string({summary: 'Seed for the simulated TD and Poisson arrivals.'}),
    profile: Flags.string({summary: `Cost profile: a builtin (${builtinProfileNames().join(', ')}) or a JSON file.`, default: 'granite-rapids'}),
    cost: Flags.string({summary: 'Override one primitive: key=value[:kind] (e.g. t_call=4, t_kick@248=150:measured).', multiple: true, multipleNonGreedy: true}),
    sweep: Flags.string({summary: 'Vary one workload parameter: key=v1,v2,… (e.g. vcpus=8,32,248).'}),
    chart: Flags.string({summary: 'Write an SVG chart of the sweep (latency, allocator time, forced exits, direct-map splits, pool exhaustion) to this file (- for stdout).'}),
    exact: Flags.boolean({summary: 'Drive every request through the real allocator (no steady-state replay; slower).', default: false}),
  }

  async run() {
    const f = this.flags
    const chart = OutputTarget.of(f.chart, '--chart', {json: this.jsonEnabled()})
    const input: WorkloadInput = {
      requests: f.requests,
      size: f.size,
      'request-size': f['request-size'],
      'response-size': f['response-size'],
      concurrency: f.concurrency,
      vcpus: f.vcpus,
      memory: f.memory,
      'pool-size': f['pool-size'],
      'upstream-kernel': f['upstream-kernel'],
      notify: f.notify,
      'on-exhaustion': f['on-exhaustion'],
      ...(f.rate !== undefined ? {rate: f.rate} : {}),
      ...(f['poll-interval'] !== undefined ? {'poll-interval': f['poll-interval']} : {}),
      ...(f['quote-time'] !== undefined ? {'quote-time': f['quote-time']} : {}),
      ...(f['host-workers'] !== undefined ? {'host-workers': f['host-workers']} : {}),
      ...(f.seed !== undefined ? {seed: f.seed} : {}),
      ...(f['swiotlb-size'] !== undefined ? {'swiotlb-size': f['swiotlb-size']} : {}),
      ...(f.strategies !== undefined ? {strategies: f.strategies} : {}),
    }
    const maxVcpus = simulatedMaxVcpus()
    const profile = applyOverrides(loadProfile(f.profile), f.cost ?? [])
    const driverFactory = guestDriverFactory(f.exact ? {calibrate: Number.POSITIVE_INFINITY} : {})
    const progress = this.progressAllowed()
    const draw = (msg: string) => progress && process.stderr.write(`\r\u001B[K${msg}`)

    let sweepText = f.sweep
    if (sweepText === undefined && f.chart !== undefined) {
      sweepText = DEFAULT_CHART_SWEEP
      this.notice(`--chart without --sweep: sweeping ${sweepText}`)
    }
    if (sweepText === undefined) {
      const w = parseWorkload(input)
      const cmp = compareStrategies(w, profile, {
        driverFactory,
        maxVcpus,
        onProgress: progress && w.requests >= 100_000 ? (s, d, t) => draw(`${s}: ${d.toLocaleString('en-US')}/${t.toLocaleString('en-US')} requests`) : undefined,
      })
      draw('')
      if (!this.jsonEnabled()) this.log(renderComparisonText(cmp))
      return comparisonJson(cmp)
    }

    const sweep = parseSweep(sweepText)
    const sw = compareSweep(input, sweep, profile, {driverFactory, maxVcpus, onPoint: (i, n, v) => draw(`sweep ${sweep.key}: point ${i + 1}/${n} (${v})`)})
    draw('')
    if (chart.given) {
      chart.write(sweepChart(sw))
      if (!this.jsonEnabled()) this.notice(`chart written to ${chart.name}`)
    }
    if (!this.jsonEnabled()) chart.say(renderSweepText(sw))
    return {...sweepJson(sw), ...(f.chart !== undefined ? {chart: f.chart} : {})}
  }
}
