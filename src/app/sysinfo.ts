/** `sysinfo`: the TDX module's global metadata of the platform in the state directory, read the kernel's way. */
import {readSysInfo, type SysInfoMethod, type SysInfoReadResult} from '../guest/sysinfo.js'
import {loadPlatform, type Notice, type StateStore} from './platform.js'

export async function platformSysInfo(store: StateStore, notice: Notice, method: SysInfoMethod): Promise<{profile: string; read: SysInfoReadResult}> {
  const p = await loadPlatform(store, notice)
  return {profile: p.profile, read: readSysInfo(p.module, method)}
}
