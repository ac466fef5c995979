import {Args, Flags} from '../../src/cli/oclif.js'
import {TdxCommand} from '../../src/cli/base.js'
import {openTsmLog, serveTsm, type TsmAttributeSet, type TsmLogRecord} from '../../src/app/tsm-mount.js'
import {TSM_REPORT_PRIVLEVEL_MAX} from '../../src/app/tsm-report.js'
import {InputError} from '../../src/errors.js'
import {STRATEGY_NAMES_ACCEPTED, canonicalStrategy} from '../../src/guest/alloc/interface.js'
import {DEFAULT_STRATEGY} from '../../src/guest/quote.js'
import {QGS_MODES, type QgsMode} from '../../src/host/qgs.js'

/** One human line per request (stderr). */
function humanLine(r: TsmLogRecord): string {
  const where = `${r.instance ?? '-'} (generation ${r.generation ?? '-'})`
  if (r.event === 'quote') return `quote v${r.quote_version}, ${r.size} bytes for ${where} via ${r.allocator}, ${r.elapsed_ms} ms`
  if (r.event === 'quote_failed') return `quote refused for ${where}: ${r.errno} (${r.message})`
  return `internal error in ${r.code}: ${r.message} (answered ${r.errno})`
}

export default class TsmMount extends TdxCommand<typeof TsmMount> {
  static summary = 'Serve the Linux configfs-tsm report interface under DIR (FUSE), backed by the simulated TD.'
  static description = `Unmodified attestation clients get quotes as on a TDX guest: mkdir DIR/report/NAME, write 64 bytes of REPORTDATA to inblob, read outblob (a DCAP quote made through TDG.MR.REPORT → shared buffer → GetQuote), rmdir. Attributes, generation counting and errnos follow the kernel (report.c, tdx-guest.c v7.0): e.g. a 65-byte inblob is EFBIG, outblob before any inblob EINVAL, writing outblob EACCES.

--attributes tdx (default) shows what the tdx_guest provider shows: generation, provider, inblob, outblob. --attributes all shows every attribute of the report core (auxblob, manifestblob, privlevel, privlevel_floor, service_*), as a provider without visibility rules would; TDX ignores privlevel.

Runs in the foreground and prints one readiness line on stdout; each quote is saved in the state directory like any other and logged on stderr (JSON lines with --json) and/or to --log FILE. Ctrl-C or SIGTERM unmounts. If the server was killed, 'tdxkit tsm unmount DIR' removes the stale mount. Needs root and the optional FUSE binding (see the README).`
  static examples = [
    '<%= config.bin %> tsm mount /tmp/tsm',
    '<%= config.bin %> tsm mount /tmp/tsm --json --log /tmp/tsm.log &',
    '<%= config.bin %> tsm mount /tmp/tsm --allocator vmap-mapgpa --quote-version 4',
  ]
  static args = {
    dir: Args.string({description: 'mount point (created if missing, must be empty); clients use DIR/report', required: true}),
  }
  static flags = {
    allocator: Flags.string({summary: 'Shared-buffer strategy for GetQuote.', options: [...STRATEGY_NAMES_ACCEPTED], default: DEFAULT_STRATEGY}),
    'quote-version': Flags.string({summary: "Quote version (default: the profile's).", options: ['4', '5']}),
    qgs: Flags.string({summary: 'Simulated host quote service: up, down, stall, error (for testing clients\' error paths).', options: [...QGS_MODES], default: 'up'}),
    attributes: Flags.string({summary: 'Attribute set: tdx (what tdx_guest shows) or all (the whole report core).', options: ['tdx', 'all'], default: 'tdx'}),
    'privlevel-floor': Flags.integer({summary: 'privlevel_floor shown with --attributes all.', min: 0, max: TSM_REPORT_PRIVLEVEL_MAX}),
    log: Flags.string({summary: 'Append one JSON line per request to this file.'}),
  }

  async run() {
    const f = this.flags
    if (f['privlevel-floor'] !== undefined && f.attributes !== 'all') {
      throw new InputError('BAD_FLAGS', '--privlevel-floor applies only with --attributes all (tdx_guest has no privlevel attributes)')
    }
    // Listen for SIGINT/SIGTERM before mounting: a signal right after the readiness line must unmount.
    const signalled = new Promise<string>((resolve) => {
      const stop = () => resolve('signal')
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
    })
    const file = f.log ? openTsmLog(f.log) : undefined
    const json = this.jsonEnabled()
    const onLog = (r: TsmLogRecord) => {
      file?.write(r)
      if (json) process.stderr.write(JSON.stringify(r) + '\n')
      else if (!file) this.notice(humanLine(r))
    }
    const server = await serveTsm({
      dir: this.args.dir,
      store: this.store(),
      strategy: canonicalStrategy(f.allocator) ?? DEFAULT_STRATEGY,
      quoteVersion: f['quote-version'] ? (Number(f['quote-version']) as 4 | 5) : undefined,
      qgsMode: f.qgs as QgsMode,
      attributes: f.attributes as TsmAttributeSet,
      privlevelFloor: f['privlevel-floor'],
      onLog,
    })
    if (server.platform_created) this.notice(`created a default simulated platform (profile ${server.profile}) in ${this.store().dir}`)
    const ready = {
      mountpoint: server.mountpoint,
      report_root: server.report_root,
      provider: server.provider,
      attributes: server.attributes,
      allocator: f.allocator,
      ...(f['quote-version'] ? {quote_version: Number(f['quote-version'])} : {}),
      profile: server.profile,
      pid: process.pid,
    }
    if (json) this.writeStdout(JSON.stringify(ready) + '\n')
    else this.writeStdout(`serving configfs-tsm at ${server.report_root} (provider ${server.provider}, ${server.attributes} attributes, allocator ${f.allocator}); Ctrl-C to stop\n`)
    const why = await Promise.race([signalled, server.lost])
    if (why !== 'signal') this.notice(`${why}; stopping`)
    await server.close()
    file?.close()
    return undefined
  }
}
