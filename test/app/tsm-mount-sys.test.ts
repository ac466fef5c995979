/** The mount's machine side without mounting: mountinfo parsing and the one-line "FUSE unavailable" errors. */
import {existsSync} from 'node:fs'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {findMount, isTsmMount, loadFuse, TSM_FSNAME} from '../../src/app/tsm-mount-sys.js'
import type {TdxkitError} from '../../src/errors.js'

const MOUNTINFO = [
  '21 26 0:20 / /proc rw,relatime - proc proc rw',
  '44 26 0:39 / /tmp/a\\040b rw,nosuid,nodev,relatime - fuse.tsm tdxkit-tsm rw,user_id=0,group_id=0',
  '45 26 0:40 / /tmp/stack rw,relatime shared:5 - tmpfs tmpfs rw',
  '46 45 0:41 / /tmp/stack rw,relatime - fuse.tsm tdxkit-tsm rw,user_id=0,group_id=0',
  '47 26 0:42 / /tmp/other rw - fuse.sshfs user@host:/ rw',
].join('\n')

test('findMount: exact mount point (octal escapes decoded), the top of a stack, optional fields skipped', () => {
  assert.equal(findMount('/tmp/a b', MOUNTINFO), {mountpoint: '/tmp/a b', fstype: 'fuse.tsm', source: TSM_FSNAME})
  assert.is(findMount('/tmp/a', MOUNTINFO), undefined)
  assert.is(findMount('/tmp/stack/', MOUNTINFO)!.fstype, 'fuse.tsm')
  assert.ok(isTsmMount(findMount('/tmp/stack', MOUNTINFO)!))
  assert.not.ok(isTsmMount(findMount('/tmp/other', MOUNTINFO)!))
  assert.not.ok(isTsmMount(findMount('/proc', MOUNTINFO)!))
})

test('loadFuse: a missing binding is one line, exit 2, naming the Debian packages and npm install', () => {
  try {
    loadFuse('@cocalc/fuse-native-not-installed')
    assert.unreachable()
  } catch (error) {
    const e = error as TdxkitError
    assert.is(e.code, 'FUSE_UNAVAILABLE')
    assert.is(e.exit, 2)
    assert.not.match(e.message, /\n/)
    if (!existsSync('/dev/fuse')) return void assert.match(e.message, /there is no \/dev\/fuse/)
    assert.match(e.message, /@cocalc\/fuse-native-not-installed is not installed/)
    assert.match(e.message, /apt-get install libfuse2 libfuse-dev fuse pkg-config/)
    assert.match(e.message, /npm install/)
  }
})

test.run()
