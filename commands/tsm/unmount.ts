import {Args} from '../../src/cli/oclif.js'
import {TdxCommand} from '../../src/cli/base.js'
import {unmountTsm} from '../../src/app/tsm-mount.js'

export default class TsmUnmount extends TdxCommand<typeof TsmUnmount> {
  static summary = 'Remove a configfs-tsm mount made by `tsm mount` (e.g. after its server was killed).'
  static description = `A running server unmounts itself on Ctrl-C / SIGTERM. When it was killed, the kernel fails every access to DIR with ENOTCONN until the mount is removed: this detaches it (fusermount -u -z, or umount -l as root), so DIR is a plain directory again. A live server notices and exits. Refuses mounts that are not tdxkit's; nothing mounted at DIR is not an error.`
  static examples = ['<%= config.bin %> tsm unmount /tmp/tsm']
  static args = {
    dir: Args.string({description: 'the mount point given to tsm mount', required: true}),
  }

  async run() {
    const r = unmountTsm(this.args.dir)
    if (!this.jsonEnabled()) this.log(r.unmounted ? `unmounted ${r.mountpoint} (${r.method})` : `nothing mounted at ${r.mountpoint}`)
    return r
  }
}
